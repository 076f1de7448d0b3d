// dsenc push: store functions on a queue.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "claim/function.h"
#include "claim/push.h"
#include "claim/signing.h"
#include "client/find.h"
#include "client/object_io.h"
#include "commands.h"
#include "line_source.h"
#include "util/unique_fd.h"
#include "wire/name.h"

namespace dstk::tools::dsenc {
namespace {

constexpr const char* kTool = "dsenc";
// Functions pushed together at most: 64 keep a batch's replies within one group on a unit
// (node/server.cc holds up to 256) with room for other clients.
constexpr size_t kBatch = 64;

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

// Prints a pushed function's key, flushed at once, or says why it was not pushed.
int Emit(const Result<std::string>& key) {
  if (!key.ok()) return Fail(kTool, key.status());
  std::printf("%s\n", key->c_str());
  std::fflush(stdout);
  return kExitOk;
}

// The one function the command line gives (no --from).
claim::Function FunctionOf(const PushArgs& a) {
  claim::Function f;
  f.argv = a.argv;
  f.inputs = a.inputs;
  f.output = a.output;
  f.timeout_s = a.timeout_s;
  f.attempts = a.attempts;
  return f;
}

// A batch of --from: the next line (waited for), then the lines already there, up to kBatch
// functions, into `batch` with their line numbers in `lines` (`lineno`: lines read so far).
// Returns why reading stopped early (a read error or a bad line), Ok otherwise.
Status ReadBatch(LineSource& in, const PushArgs& a, size_t& lineno,
                 std::vector<claim::Function>& batch, std::vector<size_t>& lines) {
  while (batch.size() < kBatch) {
    auto line = in.Next(batch.empty());
    if (!line.ok()) return line.status().With(a.from);
    if (!line->has_value()) break;
    ++lineno;
    const std::string& text = **line;
    if (text.find_first_not_of(" \t\r") == std::string::npos || text[0] == '#') continue;
    auto f = FromJson(text);
    if (!f.ok()) return f.status().With(a.from + ":" + std::to_string(lineno));
    if (f->timeout_s == 0) f->timeout_s = a.timeout_s;
    batch.push_back(std::move(f).value());
    lines.push_back(lineno);
  }
  return Status::Ok();
}

// push --from: the functions of the file's (or stdin's) JSON lines, batch by batch. Each batch
// is stored in two fan-out rounds; a producer writing slowly is never held back.
int PushLines(net::Cluster& cl, const client::Thresholds& t, claim::KeyGenerator& keys,
              const PushArgs& a, const claim::SigningKey* sign) {
  UniqueFd from;  // --from FILE; stdin ("-") is not ours to close
  if (a.from != "-") {
    from.reset(::open(a.from.c_str(), O_RDONLY | O_CLOEXEC));
    if (!from.valid()) return Fail(kTool, Status::Invalid("cannot read " + a.from));
  }
  LineSource in(from.valid() ? from.get() : STDIN_FILENO);
  size_t lineno = 0;
  while (!in.at_end()) {
    std::vector<claim::Function> batch;
    std::vector<size_t> lines;
    const Status bad = ReadBatch(in, a, lineno, batch, lines);
    // The lines before a bad one are pushed first: they stay pushed (dsenc(1)).
    int rc = kExitOk;
    auto keys_out = claim::PushFunctions(cl, t, keys, a.queue, std::move(batch), sign);
    for (size_t i = 0; i < keys_out.size(); ++i) {
      const int one =
          keys_out[i].ok()
              ? Emit(keys_out[i])
              : Fail(kTool, keys_out[i].status().With(a.from + ":" + std::to_string(lines[i])));
      if (rc == kExitOk) rc = one;
    }
    if (rc != kExitOk) return rc;
    if (!bad.ok()) return Fail(kTool, bad);
  }
  return kExitOk;
}

}  // namespace

int Push(const Common& c, const PushArgs& a) {
  Status qs = wire::ValidateName(a.queue);
  if (!qs.ok()) return Fail(kTool, qs.With("queue"));
  auto session = Connect(c);
  if (!session.ok()) return Fail(kTool, session.status());
  // Every function of a queue lives on the queue's units (client/placement.h).
  auto queue_units = client::WriteView(*session->cluster, a.queue, session->t.n);
  if (!queue_units.ok()) return Fail(kTool, queue_units.status());
  net::Cluster& cl = *queue_units;
  std::optional<claim::SigningKey> signer;
  if (!a.sign_key.empty()) {
    auto key = claim::ReadSigningKey(a.sign_key);
    if (!key.ok()) return Fail(kTool, key.status());
    signer = std::move(key).value();
  }
  const claim::SigningKey* sign = signer ? &*signer : nullptr;
  claim::KeyGenerator keys;
  if (a.from.empty()) {
    return Emit(claim::PushFunction(cl, session->t, keys, a.queue, FunctionOf(a), sign));
  }
  if (!a.argv.empty())
    return Fail(kTool, Status::Invalid("give either --from or a command, not both"));
  return PushLines(cl, session->t, keys, a, sign);
}

}  // namespace dstk::tools::dsenc
