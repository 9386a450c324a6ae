// FileBackend specifics beyond the conformance suite: the key-to-path mapping, recovery of
// a COMMIT its writer did not apply, no files outside the store.
#include "storage/file_backend.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>

#include "test/storage/backend_fixtures.h"

namespace halo::storage {
namespace {

namespace fs = std::filesystem;
using halo::testing::TempDir;

std::unique_ptr<FileBackend> MustOpenFile(const std::string& path) {
  auto b = FileBackend::Open(BackendOptions{.type = "file", .path = path});
  REQUIRE_MESSAGE(b.ok(), b.status().ToString());
  return std::move(b).value();
}

TEST_CASE("file: key paths are safe, distinct and short per component") {
  CHECK(FileBackend::KeyToPath("a") == "ka");
  CHECK(FileBackend::KeyToPath("a/b") == "da/kb");
  CHECK(FileBackend::KeyToPath("../x") == "d../kx");
  CHECK(FileBackend::KeyToPath("a//b") == "da/d/kb");
  CHECK(FileBackend::KeyToPath("/") == "d/k");
  CHECK(FileBackend::KeyToPath(std::string("n\0l", 3)) == "kn%00l");
  CHECK(FileBackend::KeyToPath("%") == "k%25");
  CHECK(FileBackend::DirToPath("") == "");
  CHECK(FileBackend::DirToPath("a/b/") == "da/db");

  std::vector<std::string> keys = {"a",    "a/",   "/a",  "a/b", "a%2Fb", "a/b/", ".",
                                   "..",   "...",  "a/.", "k",   "d",     "l",    "ka",
                                   "da/b", "d/ka", "%",   "%25", "",      "x\xff"};
  keys.push_back(std::string(kMaxKeySize, 'x'));
  keys.push_back(std::string(kMaxKeySize, '%'));
  keys.push_back(std::string(kMaxKeySize - 1, '%') + "/");
  keys.push_back(std::string(199, 'x') + "%");
  keys.push_back(std::string(198, 'x') + "%%");
  std::set<std::string> paths;
  for (const auto& key : keys) {
    if (key.empty()) continue;
    std::string path = FileBackend::KeyToPath(key);
    CHECK_MESSAGE(paths.insert(path).second, "collision for " << key);
    CHECK(path.size() < 4000);
    size_t start = 0;
    while (true) {
      size_t slash = path.find('/', start);
      std::string comp = path.substr(start, slash == std::string::npos ? slash : slash - start);
      CHECK(!comp.empty());
      CHECK(comp != ".");
      CHECK(comp != "..");
      CHECK(comp.size() <= 255);
      CHECK(comp.find('\0') == std::string::npos);
      if (slash == std::string::npos) break;
      start = slash + 1;
    }
  }
}

TEST_CASE("file: every file stays inside the store") {
  TempDir dir;
  std::string store = dir.Join("store");
  {
    auto b = MustOpenFile(store);
    for (std::string key :
         {"../escape", "../../escape", "/etc/passwd", "a/../../b", "./.", "..%2F..%2Fx"}) {
      REQUIRE(b->Put(key, "v", 1).ok());
      CHECK(*b->Get(key) == "v");
    }
  }
  std::vector<std::string> top;
  for (const auto& e : fs::directory_iterator(dir.path())) top.push_back(e.path().filename());
  CHECK(top == std::vector<std::string>{"store"});
  std::string canonical_store = fs::canonical(store).string() + "/";
  for (const auto& e : fs::recursive_directory_iterator(store)) {
    CHECK(fs::canonical(e.path()).string().rfind(canonical_store, 0) == 0);
    CHECK_FALSE(e.is_symlink());
  }
}

TEST_CASE("file: a committed but unapplied write is visible and applied by the next writer") {
  TempDir dir;
  std::string store = dir.Join("store");
  {
    auto b = MustOpenFile(store);
    REQUIRE(b->Put("keep", "1", 1).ok());
    REQUIRE(b->Update(2, [](Txn& txn) -> Status {
               RETURN_IF_ERROR(txn.Put("x/a", "new-a"));
               RETURN_IF_ERROR(txn.Put("x/b", "new-b"));
               return txn.Delete("keep");
             }).ok());
  }
  // Simulate a writer that died after its COMMIT but before applying it: undo the apply.
  std::string data = store + "/data/";
  REQUIRE(fs::remove(data + FileBackend::KeyToPath("x/a")));
  halo::testing::WriteFile(data + FileBackend::KeyToPath("x/b"), "old-b");
  halo::testing::WriteFile(data + FileBackend::KeyToPath("keep"), "1");

  auto b = MustOpenFile(store);
  CHECK(*b->Get("x/a") == "new-a");  // readers see the COMMIT
  CHECK(*b->Get("x/b") == "new-b");
  CHECK(b->Get("keep").status().IsNotFound());
  CHECK(*b->List("") == std::vector<std::string>{"x/a", "x/b"});
  CHECK(*b->MaxEpoch() == 2);
  // The next write transaction repairs the key files first.
  REQUIRE(b->Put("y", "1", 2).ok());
  CHECK(fs::exists(data + FileBackend::KeyToPath("x/a")));
  CHECK_FALSE(fs::exists(data + FileBackend::KeyToPath("keep")));
  std::ifstream in(data + FileBackend::KeyToPath("x/b"));
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(content == "new-b");
  CHECK(fs::is_empty(store + "/tmp"));
}

TEST_CASE("file: a corrupt COMMIT is reported, not ignored") {
  TempDir dir;
  std::string store = dir.Join("store");
  { REQUIRE(MustOpenFile(store)->Put("k", "v", 1).ok()); }
  halo::testing::WriteFile(store + "/COMMIT", "HALOFC01garbage");
  auto b = MustOpenFile(store);
  CHECK(b->Get("k").status().code() == Status::Code::kCorruption);
  CHECK(b->MaxEpoch().status().code() == Status::Code::kCorruption);
  CHECK(b->Put("k", "v2", 1).code() == Status::Code::kCorruption);
}

TEST_CASE("file: deleting keys removes directories left empty") {
  TempDir dir;
  std::string store = dir.Join("store");
  auto b = MustOpenFile(store);
  REQUIRE(b->Put("a/b/c/d", "v", 1).ok());
  REQUIRE(b->Put("a/x", "v", 1).ok());
  REQUIRE(b->Delete("a/b/c/d", 1).ok());
  CHECK_FALSE(fs::exists(store + "/data/da/db"));
  CHECK(fs::exists(store + "/data/da/kx"));
  CHECK(*b->List("a/") == std::vector<std::string>{"a/x"});
}

}  // namespace
}  // namespace halo::storage
