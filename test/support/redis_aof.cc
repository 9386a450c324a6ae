#include "test/support/redis_aof.h"

#include <fstream>
#include <sstream>

namespace halo::testing {
namespace {

bool ReadLine(std::istream& in, std::string* line) {
  if (!std::getline(in, *line)) return false;
  if (!line->empty() && line->back() == '\r') line->pop_back();
  return true;
}

// One command ("*N" then N "$len" bulk strings); false at the end or on a torn tail (a
// killed server may leave one).
bool ReadCommand(std::istream& in, std::vector<std::string>* argv) {
  std::string line;
  if (!ReadLine(in, &line) || line.size() < 2 || line[0] != '*') return false;
  long n = std::strtol(line.c_str() + 1, nullptr, 10);
  argv->clear();
  for (long i = 0; i < n; ++i) {
    if (!ReadLine(in, &line) || line.size() < 2 || line[0] != '$') return false;
    long len = std::strtol(line.c_str() + 1, nullptr, 10);
    std::string arg(static_cast<size_t>(len), '\0');
    if (len < 0 || !in.read(arg.data(), len)) return false;
    argv->push_back(std::move(arg));
    if (!ReadLine(in, &line)) return false;  // the CRLF after the bulk
  }
  return true;
}

}  // namespace

Result<EpochWrites> ReadEpochWrites(const std::string& data_dir, const std::string& epoch_key) {
  const std::string dir = data_dir + "/appendonlydir/";
  std::ifstream manifest(dir + "appendonly.aof.manifest");
  if (!manifest) return Status::NotFound("no AOF manifest in " + dir);
  EpochWrites out;
  int64_t newest = 0;
  std::string entry;
  while (std::getline(manifest, entry)) {
    std::istringstream fields(entry);
    std::string key, type;
    std::string name;
    while (fields >> key) {
      std::string value;
      fields >> value;
      if (key == "file") name = value;
      if (key == "type") type = value;
    }
    if (type != "i") continue;
    std::ifstream in(dir + name, std::ios::binary);
    if (!in) return Status::NotFound("AOF file missing: " + dir + name);
    std::vector<std::string> argv;
    while (ReadCommand(in, &argv)) {
      if (argv.size() < 3 || argv[1] != epoch_key) continue;
      if (argv[0] != "SET" && argv[0] != "set") continue;
      int64_t e = std::strtoll(argv[2].c_str(), nullptr, 10);
      if (e < newest) ++out.regressions;
      newest = std::max(newest, e);
      out.epochs.push_back(e);
    }
  }
  return out;
}

}  // namespace halo::testing
