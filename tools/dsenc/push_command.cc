// dsenc push: store functions on a queue.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "claim/function.h"
#include "client/object_io.h"
#include "commands.h"
#include "util/fd_io.h"
#include "wire/name.h"

namespace dstk::tools::dsenc {
namespace {

constexpr const char* kTool = "dsenc";

std::string Producer() {
  char host[256] = "?";
  ::gethostname(host, sizeof host - 1);
  return std::string(host) + ":" + std::to_string(::getpid());
}

Status CheckFunction(const claim::Function& f) {
  if (f.argv.empty()) return Status::Invalid("a function needs a command");
  for (const auto& in : f.inputs) DSTK_RETURN_IF_ERROR(wire::ValidateName(in).With("--in " + in));
  if (!f.output.empty()) DSTK_RETURN_IF_ERROR(wire::ValidateName(f.output).With("--out " + f.output));
  if (f.attempts == 0) return Status::Invalid("--attempts must be at least 1");
  return Status::Ok();
}

// Stores one function under a fresh queue key; returns the key.
Result<std::string> PushOne(net::Cluster& cl, const client::Thresholds& t, claim::KeyGenerator& keys,
                            const std::string& queue, claim::Function f) {
  DSTK_RETURN_IF_ERROR(CheckFunction(f));
  f.producer = Producer();
  f.pushed_us = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
  const std::string bytes = claim::EncodeFunction(f);
  if (bytes.size() > claim::kMaxFunctionBytes) return Status::Invalid("function record is larger than 1 MiB");
  const int fd = ::memfd_create("dstk-function", MFD_CLOEXEC);
  if (fd < 0) return Status::IoError("memfd_create failed");
  Status st = WriteAll(fd, {reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
  if (st.ok() && ::lseek(fd, 0, SEEK_SET) != 0) st = Status::IoError("lseek failed");
  if (!st.ok()) {
    ::close(fd);
    return st;
  }
  const std::string key = keys.Next(queue);
  client::PutOptions o;
  o.t = t;
  o.fresh = true;
  auto m = client::PutObject(cl, key, fd, o);
  ::close(fd);
  if (!m.ok()) return m.status();
  return key;
}

Result<claim::Function> FromJson(const std::string& line) {
  try {
    auto j = nlohmann::json::parse(line);
    claim::Function f;
    f.argv = j.at("argv").get<std::vector<std::string>>();
    if (j.contains("in")) f.inputs = j["in"].get<std::vector<std::string>>();
    if (j.contains("out")) f.output = j["out"].get<std::string>();
    if (j.contains("timeout")) f.timeout_s = j["timeout"].get<uint32_t>();
    if (j.contains("attempts")) f.attempts = j["attempts"].get<uint32_t>();
    return f;
  } catch (const std::exception& e) {
    return Status::Invalid(std::string("bad function line: ") + e.what());
  }
}

}  // namespace

int Push(const Common& c, const PushArgs& a) {
  Status qs = wire::ValidateName(a.queue);
  if (!qs.ok()) return Fail(kTool, qs.With("queue"));
  auto nodes = ResolveNodes(c.net);
  if (!nodes.ok()) return Fail(kTool, nodes.status());
  auto t = client::ResolveThresholds(static_cast<uint32_t>(nodes->size()), c.net.k, c.net.w);
  if (!t.ok()) return Fail(kTool, t.status());
  net::Cluster cl(*nodes, TimeoutOf(c.net));
  claim::KeyGenerator keys;

  auto emit = [&](const Result<std::string>& key) -> int {
    if (!key.ok()) return Fail(kTool, key.status());
    std::printf("%s\n", key->c_str());
    std::fflush(stdout);
    return kExitOk;
  };
  if (a.from.empty()) {
    claim::Function f;
    f.argv = a.argv;
    f.inputs = a.inputs;
    f.output = a.output;
    f.timeout_s = a.timeout_s;
    f.attempts = a.attempts;
    return emit(PushOne(cl, *t, keys, a.queue, f));
  }
  if (!a.argv.empty()) return Fail(kTool, Status::Invalid("give either --from or a command, not both"));
  std::ifstream file;
  if (a.from != "-") {
    file.open(a.from);
    if (!file) return Fail(kTool, Status::Invalid("cannot read " + a.from));
  }
  std::istream& in = a.from == "-" ? std::cin : file;
  std::string line;
  size_t lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.find_first_not_of(" \t\r") == std::string::npos || line[0] == '#') continue;
    auto f = FromJson(line);
    if (!f.ok()) return Fail(kTool, f.status().With(a.from + ":" + std::to_string(lineno)));
    if (f->timeout_s == 0) f->timeout_s = a.timeout_s;
    if (int rc = emit(PushOne(cl, *t, keys, a.queue, *f)); rc != kExitOk) return rc;
  }
  return kExitOk;
}

}  // namespace dstk::tools::dsenc
