#include "claim/push.h"

#include <sys/mman.h>
#include <unistd.h>

#include <chrono>

#include "client/object_io.h"
#include "util/fd_io.h"
#include "wire/name.h"

namespace dstk::claim {
namespace {

std::string Producer() {
  char host[256] = "?";
  ::gethostname(host, sizeof host - 1);
  return std::string(host) + ":" + std::to_string(::getpid());
}

Status CheckFunction(const Function& f) {
  if (f.argv.empty()) return Status::Invalid("a function needs a command");
  for (const auto& in : f.inputs) DSTK_RETURN_IF_ERROR(wire::ValidateName(in).With("input " + in));
  if (!f.output.empty())
    DSTK_RETURN_IF_ERROR(wire::ValidateName(f.output).With("output " + f.output));
  if (f.attempts == 0) return Status::Invalid("attempts must be at least 1");
  return Status::Ok();
}

}  // namespace

Result<std::string> PushFunction(net::Cluster& cl, const client::Thresholds& t, KeyGenerator& keys,
                                 const std::string& queue, Function f) {
  DSTK_RETURN_IF_ERROR(wire::ValidateName(queue).With("queue"));
  DSTK_RETURN_IF_ERROR(CheckFunction(f));
  if (f.producer.empty()) f.producer = Producer();
  f.pushed_us = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
  const std::string bytes = EncodeFunction(f);
  if (bytes.size() > kMaxFunctionBytes)
    return Status::Invalid("function record is larger than 1 MiB");
  // The put path reads a file descriptor; a memfd is a file of known length with no disk.
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

}  // namespace dstk::claim
