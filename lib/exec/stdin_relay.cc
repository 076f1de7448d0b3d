#include "exec/stdin_relay.h"

#include <unistd.h>

#include <exception>
#include <string>
#include <system_error>

#include "exec/pipe.h"
#include "exec/sigpipe_block.h"

namespace dstk::exec {

Result<std::unique_ptr<StdinRelay>> StdinRelay::Start(const StdinFeeder& feed) {
  Result<Pipe> pipe = MakePipe();
  if (!pipe.ok()) return pipe.status().With("stdin relay");
  DSTK_RETURN_IF_ERROR(SetNonBlocking(pipe->read.get()));
  std::unique_ptr<StdinRelay> relay(new StdinRelay());
  relay->read_ = std::move(pipe->read);
  const int write_fd = pipe->write.get();
  try {
    relay->thread_ = std::thread([r = relay.get(), &feed, write_fd] { r->Body(feed, write_fd); });
  } catch (const std::system_error& e) {
    return Status::IoError(std::string("starting the stdin feeder thread: ") + e.what());
  }
  (void)pipe->write.release();  // the thread owns it now and closes it
  return relay;
}

StdinRelay::~StdinRelay() {
  Abandon();
  // Join()'s status is the feeder's, and callers that use it call Join() themselves; here the
  // relay is being dropped (an error path of the run) and only the thread must not outlive it.
  (void)Join();
}

void StdinRelay::Body(const StdinFeeder& feed, int write_fd) {
  SigpipeBlock block;
  Status st;
  try {
    st = feed(write_fd);
  } catch (const std::exception& e) {
    st = Status::IoError(std::string("stdin feeder threw: ") + e.what());
  } catch (...) {
    st = Status::IoError("stdin feeder threw");
  }
  ::close(write_fd);
  status_ = std::move(st);
}

void StdinRelay::Abandon() {
  if (joined_) return;
  abandoned_ = true;
  read_.reset();
}

Status StdinRelay::Join() {
  if (!joined_) {
    if (thread_.joinable()) thread_.join();
    joined_ = true;
    read_.reset();
    if (abandoned_) status_ = Status::Ok();
  }
  return status_;
}

}  // namespace dstk::exec
