// Waiting for ZeroMQ messages with one poll(2), the way libzmq's ZMQ_FD is meant to be used.
//
// Why not zmq_poll: it asks every socket it is given for ZMQ_EVENTS before its poll(2) and again
// after, and each ask that finds the socket's command mailbox empty costs libzmq a getpid(2) (its
// fork check) and a poll(2) of that mailbox. A claimer waiting on five units made 7 poll and 8
// getpid calls per reply, a unit 9 and 11 per request: most of their system calls, and on a
// virtual machine each system call is dear. A ReadWatch asks ZMQ_EVENTS only when the socket may
// have changed: after it was used, or when its ZMQ_FD polled readable.
//
// The rule it keeps (zmq_getsockopt(3), ZMQ_FD): the fd signals a change of the socket's state
// only once ZMQ_EVENTS (or a receive that found nothing) has taken every pending command; and a
// send or a receive may take them too, without the fd saying so. So a socket found empty by
// Readable() and not used since is the only kind it is safe to block on.
#pragma once

#include <poll.h>

#include <chrono>
#include <span>

#include "util/status.h"

namespace dstk::net {

class ReadWatch {
 public:
  // `socket`: a ZeroMQ socket handle (zmq::socket_t::handle()), which must outlive the watch.
  explicit ReadWatch(void* socket);

  // The socket was used (a send or a receive), or its fd polled readable: the next Readable()
  // asks the socket again.
  void Touch() { state_ = State::kUnknown; }
  // A receive found nothing: it took the pending commands, so the fd is armed as after a false
  // Readable().
  void Emptied() { state_ = State::kEmpty; }
  // Whether a message can be received now. Asks ZMQ_EVENTS only when the socket was touched
  // since the last answer; false means the fd is armed and will poll readable on any change.
  // True on a ZeroMQ error, so that the receive that follows meets and reports it.
  bool Readable();
  // The fd to poll(2) for POLLIN (-1 only if ZeroMQ refused to give one, which poll(2) skips).
  int fd() const { return fd_; }

 private:
  void* socket_;
  int fd_ = -1;
  enum class State { kUnknown, kReadable, kEmpty };
  State state_ = State::kUnknown;
};

// poll(2) on `fds` until one is readable or `timeout` passes (negative: no limit); each entry's
// revents says which. An interrupted wait (EINTR) is a wake with nothing ready; any other
// failure is kIoError.
Status WaitReadable(std::span<pollfd> fds, std::chrono::milliseconds timeout);

}  // namespace dstk::net
