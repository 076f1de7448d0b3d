#include "claim/push.h"

#include <unistd.h>

#include <chrono>

#include "client/object_io.h"
#include "wire/name.h"

namespace dstk::claim {
namespace {

std::string Producer() {
  char host[256] = "?";
  ::gethostname(host, sizeof host - 1);
  return std::string(host) + ":" + std::to_string(::getpid());
}

// What every worker would refuse or fail on, refused once here instead of run and failed
// until dead-lettered: no command, an empty command name, an argument exec cannot pass.
Status CheckFunction(const Function& f) {
  if (f.argv.empty()) return Status::Invalid("a function needs a command");
  if (f.argv.front().empty()) return Status::Invalid("the command's name is empty");
  for (size_t i = 0; i < f.argv.size(); ++i) {
    if (f.argv[i].find('\0') != std::string::npos)
      return Status::Invalid("argument " + std::to_string(i) + " of the command contains NUL");
  }
  for (const auto& in : f.inputs) DSTK_RETURN_IF_ERROR(wire::ValidateName(in).With("input " + in));
  if (!f.output.empty())
    DSTK_RETURN_IF_ERROR(wire::ValidateName(f.output).With("output " + f.output));
  if (f.attempts == 0) return Status::Invalid("attempts must be at least 1");
  return Status::Ok();
}

// The function checked, stamped with producer and time (kept when it has them: a re-queued
// function is the same function, and its signature covers them), signed with `signer` when
// given, and encoded.
Result<std::string> Prepare(Function& f, const std::string& queue, const SigningKey* signer) {
  DSTK_RETURN_IF_ERROR(CheckFunction(f));
  if (f.producer.empty()) f.producer = Producer();
  if (f.pushed_us == 0) {
    f.pushed_us = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                            std::chrono::system_clock::now().time_since_epoch())
                                            .count());
  }
  if (signer != nullptr) DSTK_RETURN_IF_ERROR(SignFunction(f, queue, *signer));
  std::string bytes = EncodeFunction(f);
  if (bytes.size() > kMaxFunctionBytes)
    return Status::Invalid("function record is larger than 1 MiB");
  return bytes;
}

}  // namespace

Result<std::string> PushFunction(net::Cluster& cl, const client::Thresholds& t, KeyGenerator& keys,
                                 const std::string& queue, Function f, const SigningKey* signer) {
  std::vector<Function> one;
  one.push_back(std::move(f));
  auto out = PushFunctions(cl, t, keys, queue, std::move(one), signer);
  return std::move(out.front());
}

std::vector<Result<std::string>> PushFunctions(net::Cluster& cl, const client::Thresholds& t,
                                               KeyGenerator& keys, const std::string& queue,
                                               std::vector<Function> functions,
                                               const SigningKey* signer) {
  std::vector<Result<std::string>> out(functions.size(), Status::Invalid("not pushed"));
  Status qs = wire::ValidateName(queue).With("queue");
  std::vector<client::NewObject> objects;
  std::vector<size_t> index;  // objects[j] is functions[index[j]]
  for (size_t i = 0; i < functions.size(); ++i) {
    auto bytes = qs.ok() ? Prepare(functions[i], queue, signer) : Result<std::string>(qs);
    if (!bytes.ok()) {
      out[i] = bytes.status();
      continue;
    }
    // Keys in the caller's order: the queue's order is push order.
    client::NewObject obj;
    obj.name = keys.Next(queue);
    obj.bytes = std::move(bytes).value();
    objects.push_back(std::move(obj));
    index.push_back(i);
  }
  client::PutOptions o;
  o.t = t;
  o.fresh = true;
  const std::vector<Status> stored = client::PutNewObjects(cl, objects, o);
  for (size_t j = 0; j < objects.size(); ++j) {
    out[index[j]] = stored[j].ok() ? Result<std::string>(std::move(objects[j].name))
                                   : Result<std::string>(stored[j]);
  }
  return out;
}

}  // namespace dstk::claim
