// The thread that runs a StdinFeeder, and the pipe from it to the supervisor. Internal to
// lib/exec.
//
// The feeder writes into this relay pipe, not into the command's stdin; the supervisor copies
// from one to the other. So the supervisor can always unblock the feeder, by closing the
// relay's read end, even while something outside the process group still holds the command's
// stdin open; and the feeder's result is known before the command is given end of file.
#pragma once

#include <memory>
#include <thread>

#include "exec/runner.h"
#include "util/unique_fd.h"

namespace dstk::exec {

class StdinRelay {
 public:
  // Starts `feed` on a new thread, writing into a new pipe. `feed` must outlive the relay.
  static Result<std::unique_ptr<StdinRelay>> Start(const StdinFeeder& feed);

  StdinRelay(const StdinRelay&) = delete;
  StdinRelay& operator=(const StdinRelay&) = delete;
  // Abandon(), then waits for the thread.
  ~StdinRelay();

  // The read end, nonblocking; -1 once abandoned. End of file once the feeder has returned.
  int read_fd() const { return read_.get(); }

  // Closes the read end: the feeder's further writes fail with EPIPE, and whatever error it
  // returns after that is not an error of the run.
  void Abandon();

  // Waits for the feeder to return (it has, once read_fd() gave end of file; after Abandon()
  // it soon will, unless it blocks elsewhere). Its Status; Ok when it failed after Abandon().
  // Later calls return the same.
  Status Join();

 private:
  StdinRelay() = default;
  void Body(const StdinFeeder& feed, int write_fd);

  UniqueFd read_;
  std::thread thread_;
  Status status_;  // written by the thread, read after join
  bool abandoned_ = false;
  bool joined_ = false;
};

}  // namespace dstk::exec
