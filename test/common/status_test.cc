#include <doctest/doctest.h>

#include "common/result.h"

namespace halo {
namespace {

Result<int> Half(int n) {
  if (n % 2) return Status::InvalidArgument("odd: " + std::to_string(n));
  return n / 2;
}

Result<int> Quarter(int n) {
  ASSIGN_OR_RETURN(int h, Half(n));
  return Half(h);
}

Status CheckEven(int n) {
  RETURN_IF_ERROR(Half(n).status().ok() ? Status::Ok() : Half(n).status());
  return Status::Ok();
}

TEST_CASE("Status codes, messages and copies") {
  Status ok;
  CHECK(ok.ok());
  CHECK(ok.ToString() == "OK");
  Status nf = Status::NotFound("key a");
  CHECK_FALSE(nf.ok());
  CHECK(nf.IsNotFound());
  CHECK(nf.ToString() == "not found: key a");
  Status copy = nf;
  CHECK(copy.message() == "key a");
  CHECK(nf.Annotate("lmdb").message() == "lmdb: key a");
  CHECK(Status::FromErrno("open x", ENOENT).message() == "open x: No such file or directory");
}

TEST_CASE("Result and the propagation macros") {
  CHECK(*Quarter(8) == 2);
  Result<int> r = Quarter(6);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message() == "odd: 3");
  CHECK(CheckEven(3).code() == Status::Code::kInvalidArgument);
  CHECK(CheckEven(4).ok());
  CHECK(r.value_or(7) == 7);
}

}  // namespace
}  // namespace halo
