// Handing claims on to the reader of stdout (dsrun) without letting them wait unowned.
//
// A claim that sits in a pipe buffer is owned but not running. In lease mode its lease runs out
// there, and another walker may then take the function over while this one's reader is about to
// start it: the function runs twice in a healthy pipeline. So when stdout is a pipe (or FIFO):
//   - a claim is handed on only when the reader has taken everything handed on before (the pipe
//     is empty, FIONREAD), and dsclaim claims the next one only then: the pipe holds at most one
//     claim, and the reader (dsrun reads only when a job slot is free) sets the pace;
//   - the claims dsclaim holds, written or not yet written (the rest of a --batch), have their
//     leases renewed every third of a lease until the reader has taken them. dsrun renews a
//     claim as soon as it starts it, so a lease is never left unrenewed for longer than a third.
// On any other stdout (a file, a terminal) claims are written at once: nobody runs them.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "claim/claimer.h"
#include "net/cluster.h"
#include "util/status.h"

namespace dstk::tools {

class Handoff {
 public:
  using Encoder = std::function<std::string(const claim::Claim&)>;
  using Notice = std::function<void(const std::string&)>;
  // `fd` is the reader's end of the hand-off (stdout). `notice` tells of a held lease lost.
  Handoff(int fd, net::Cluster& cluster, Encoder encode, Notice notice);

  // Whether `fd` is a pipe, so that the reader's pace can be followed.
  bool paced() const { return paced_; }

  // Waits until the reader has taken every claim handed on, renewing the leases held meanwhile.
  // kIoError when the reader went away (the claims it had not taken are released first).
  Status WaitUntilTaken();

  // Hands `claims` on in order, each one once the reader has taken the one before. A lease lost
  // while held is dropped (never handed on) and told through `notice`. kIoError when the reader
  // went away or a write failed: every claim not taken yet is released (lease mode).
  Status HandOn(std::vector<claim::Claim> claims);

  // Claims handed on or held and not yet taken by the reader.
  size_t held() const { return held_.size(); }

 private:
  struct Held {
    claim::Claim claim;
    uint64_t end = 0;  // offset in the stream just past its record; 0 until written
    std::chrono::steady_clock::time_point renewed;
  };
  // Forgets the claims the reader has read past; returns the bytes it has not read yet.
  Result<uint64_t> Unread();
  // Renews each held lease whose last renewal is a third of a lease old; drops lost ones that
  // were not written yet. Returns the time until the next renewal is due.
  std::chrono::milliseconds RenewDue();
  Status Write(Held& h);
  Status Fail(Status why);  // releases every claim still held, returns `why`

  int fd_;
  net::Cluster& cluster_;
  Encoder encode_;
  Notice notice_;
  bool paced_ = false;
  uint64_t written_ = 0;
  std::vector<Held> held_;
};

}  // namespace dstk::tools
