// dsenc push: store functions on a queue.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "claim/function.h"
#include "claim/push.h"
#include "client/object_io.h"
#include "commands.h"
#include "wire/name.h"

namespace dstk::tools::dsenc {
namespace {

constexpr const char* kTool = "dsenc";

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
  auto client_keys = ResolveKeys(c.net);
  if (!client_keys.ok()) return Fail(kTool, client_keys.status());
  net::Cluster cl(*nodes, TimeoutOf(c.net), *client_keys);
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
    return emit(claim::PushFunction(cl, *t, keys, a.queue, f));
  }
  if (!a.argv.empty())
    return Fail(kTool, Status::Invalid("give either --from or a command, not both"));
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
    if (int rc = emit(claim::PushFunction(cl, *t, keys, a.queue, *f)); rc != kExitOk) return rc;
  }
  return kExitOk;
}

}  // namespace dstk::tools::dsenc
