// A small fixed crew of threads that runs the parts of one job side by side with the caller.
//
// `dsenc split` is bound by one core's encode and CRC speed (bench/README.md); cutting each
// segment's work into parts and running them on every core is how it goes past that. The
// crew is made once per command and reused for every segment, so a part costs a wake-up, not
// a thread start. A crew of size 1 has no threads and runs every part in the caller.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace dstk {

class WorkCrew {
 public:
  // `size` counts the caller: size - 1 helper threads are started (none when size <= 1).
  explicit WorkCrew(unsigned size);
  ~WorkCrew();
  WorkCrew(const WorkCrew&) = delete;
  WorkCrew& operator=(const WorkCrew&) = delete;

  unsigned size() const { return static_cast<unsigned>(helpers_.size()) + 1; }

  // Calls part(0) .. part(parts - 1), each exactly once, spread over the crew and the calling
  // thread, and returns when every call has returned. `part` must not throw; parts must not
  // share anything they write. Not reentrant: one Run at a time.
  void Run(size_t parts, const std::function<void(size_t)>& part);

  // The number of cores this process may use (at least 1): the default crew size.
  static unsigned AvailableCores();

 private:
  void HelperLoop();
  // Takes and runs parts of the current job until none is left; `lock` is held on entry/exit.
  void RunParts(std::unique_lock<std::mutex>& lock);

  std::mutex mu_;
  std::condition_variable work_ready_;  // a job was posted, or the crew is stopping
  std::condition_variable job_done_;    // the last part of the job returned
  const std::function<void(size_t)>* job_ = nullptr;
  size_t parts_ = 0;       // parts of the current job
  size_t next_part_ = 0;   // the next part nobody has taken yet
  size_t unfinished_ = 0;  // parts taken or not whose call has not returned
  uint64_t generation_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> helpers_;
};

}  // namespace dstk
