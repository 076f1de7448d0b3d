#include "util/work_crew.h"

#include <sched.h>

namespace dstk {

WorkCrew::WorkCrew(unsigned size) {
  for (unsigned i = 1; i < size; ++i) helpers_.emplace_back([this] { HelperLoop(); });
}

WorkCrew::~WorkCrew() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  work_ready_.notify_all();
  for (auto& t : helpers_) t.join();
}

unsigned WorkCrew::AvailableCores() {
  // The affinity mask, not the machine's core count: a unit pinned with taskset or a container
  // limited to two cores should not start a thread per core of the host.
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return static_cast<unsigned>(n);
  }
  const unsigned hw = std::thread::hardware_concurrency();
  return hw > 0 ? hw : 1;
}

void WorkCrew::RunParts(std::unique_lock<std::mutex>& lock) {
  while (next_part_ < parts_) {
    const size_t part = next_part_++;
    const auto* job = job_;
    lock.unlock();
    (*job)(part);
    lock.lock();
    if (--unfinished_ == 0) job_done_.notify_all();
  }
}

void WorkCrew::Run(size_t parts, const std::function<void(size_t)>& part) {
  if (parts == 0) return;
  if (helpers_.empty() || parts == 1) {
    for (size_t i = 0; i < parts; ++i) part(i);
    return;
  }
  std::unique_lock<std::mutex> lock(mu_);
  job_ = &part;
  parts_ = parts;
  next_part_ = 0;
  unfinished_ = parts;
  ++generation_;
  work_ready_.notify_all();
  RunParts(lock);
  job_done_.wait(lock, [this] { return unfinished_ == 0; });
  // Nothing of this job may be taken after Run returns: `part` is about to go away.
  job_ = nullptr;
  parts_ = next_part_ = 0;
}

void WorkCrew::HelperLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  // Not generation_: a job posted before this thread first ran must still be seen as new.
  uint64_t seen = 0;
  for (;;) {
    work_ready_.wait(lock, [&] { return stopping_ || generation_ != seen; });
    if (stopping_) return;
    seen = generation_;
    RunParts(lock);
  }
}

}  // namespace dstk
