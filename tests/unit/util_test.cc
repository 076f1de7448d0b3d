// util/: the work crew that runs a job's parts side by side, file mappings, owned fds and
// scratch files.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "temp_dir.h"
#include "util/file_map.h"
#include "util/temp_file.h"
#include "util/unique_fd.h"
#include "util/work_crew.h"

using dstk::MappedRegion;
using dstk::WorkCrew;

TEST_CASE("a work crew runs every part exactly once", "[util][crew]") {
  for (unsigned size : {1u, 2u, 4u}) {
    WorkCrew crew(size);
    REQUIRE(crew.size() == size);
    for (size_t parts : {size_t{0}, size_t{1}, size_t{3}, size_t{1000}}) {
      for (int round = 0; round < 20; ++round) {
        std::vector<std::atomic<int>> runs(parts);
        crew.Run(parts, [&](size_t i) { runs[i].fetch_add(1); });
        for (size_t i = 0; i < parts; ++i) REQUIRE(runs[i].load() == 1);
      }
    }
  }
}

// Called by each part: counts it as started and waits (5 s at most) until `parts` have
// started; whether they all did. Parts that wait for each other must be running side by side.
bool StartAndWaitForAll(std::atomic<int>& started, int parts) {
  started.fetch_add(1);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (started.load() < parts && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  return started.load() == parts;
}

TEST_CASE("a work crew's threads join the very first job", "[util][crew]") {
  // Each part waits until the other has started: only a crew whose helper takes part in the
  // job (even one posted before the helper thread first ran) gets both going. A helper that
  // missed the job would leave part 1 to the caller after part 0 timed out.
  for (int round = 0; round < 50; ++round) {
    WorkCrew crew(2);
    std::atomic<int> started{0};
    std::atomic<int> saw_other{0};
    crew.Run(2, [&](size_t) {
      if (StartAndWaitForAll(started, 2)) saw_other.fetch_add(1);
    });
    REQUIRE(saw_other.load() == 2);
  }
}

TEST_CASE("a work crew spreads parts over its threads", "[util][crew]") {
  WorkCrew crew(3);
  std::mutex mu;
  std::set<std::thread::id> threads;
  std::atomic<int> started{0};
  crew.Run(3, [&](size_t) {
    // Hold each part until all three run, so no thread can take two.
    (void)StartAndWaitForAll(started, 3);
    std::lock_guard<std::mutex> lock(mu);
    threads.insert(std::this_thread::get_id());
  });
  REQUIRE(threads.size() == 3);
  REQUIRE(threads.count(std::this_thread::get_id()) == 1);  // the caller is one of the crew
}

TEST_CASE("a mapped region shows the file, populated or released", "[util][map]") {
  dstk::test::TempDir dir;
  const std::string path = dir.path() + "/f";
  std::string data(3 * 4096 + 100, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7 + 3);
  std::ofstream(path, std::ios::binary)
      .write(data.data(), static_cast<std::streamsize>(data.size()));
  const int fd = ::open(path.c_str(), O_RDONLY);
  REQUIRE(fd >= 0);
  auto region = MappedRegion::Map(fd, 4096, data.size() - 4096, /*populate=*/false);
  REQUIRE(region.ok());
  auto bytes = region->bytes();
  REQUIRE(bytes.size() == data.size() - 4096);
  region->Populate(0, 4096);
  REQUIRE(std::memcmp(bytes.data(), data.data() + 4096, bytes.size()) == 0);
  region->Release(0, 8192);  // released pages read the file again when touched
  REQUIRE(std::memcmp(bytes.data(), data.data() + 4096, bytes.size()) == 0);
  auto empty = MappedRegion::Map(fd, 0, 0);
  REQUIRE(empty.ok());
  REQUIRE(empty->bytes().empty());
  REQUIRE_FALSE(MappedRegion::Map(fd, 100, 10).ok());  // an offset off a page boundary
  ::close(fd);
  REQUIRE_FALSE(MappedRegion::Map(fd, 0, 10).ok());  // a closed descriptor
}

TEST_CASE("only regular files on page boundaries are mapped", "[util][map]") {
  dstk::test::TempDir dir;
  const std::string path = dir.path() + "/f";
  std::ofstream(path, std::ios::binary) << std::string(10000, 'x');
  const int fd = ::open(path.c_str(), O_RDONLY);
  REQUIRE(fd >= 0);
  auto range = dstk::FindMappableRange(fd, 1u << 20);
  REQUIRE(range.has_value());
  REQUIRE(range->start == 0);
  REQUIRE(range->end == 10000);
  REQUIRE_FALSE(dstk::FindMappableRange(fd, 1000).has_value());  // segments off page boundaries
  REQUIRE(::lseek(fd, 4096, SEEK_SET) == 4096);
  range = dstk::FindMappableRange(fd, 1u << 20);
  REQUIRE(range.has_value());
  REQUIRE(range->start == 4096);
  REQUIRE(::lseek(fd, 100, SEEK_SET) == 100);
  REQUIRE_FALSE(dstk::FindMappableRange(fd, 1u << 20).has_value());  // offset off a page
  ::close(fd);
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  REQUIRE_FALSE(dstk::FindMappableRange(pipe_fds[0], 1u << 20).has_value());
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
}

TEST_CASE("a UniqueFd closes what it owns, once, and hands it on when moved", "[util][fd]") {
  dstk::UniqueFd a(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  REQUIRE(a.valid());
  const int fd = a.get();
  dstk::UniqueFd b(std::move(a));
  CHECK_FALSE(a.valid());
  CHECK(b.get() == fd);
  CHECK(::fcntl(fd, F_GETFD) != -1);  // still open: the move did not close it
  b.reset();
  CHECK(::fcntl(fd, F_GETFD) == -1);
  CHECK(errno == EBADF);
  CHECK(b.Close("nothing").ok());  // none held: nothing to report

  dstk::UniqueFd c(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  REQUIRE(c.valid());
  CHECK(c.Close("/dev/null").ok());
  CHECK_FALSE(c.valid());
}

TEST_CASE("scratch files go in $TMPDIR, else /tmp, and leave no name behind", "[util][fd]") {
  const char* old = ::getenv("TMPDIR");
  const std::string saved = old != nullptr ? old : "";
  dstk::test::TempDir dir;
  ::setenv("TMPDIR", dir.path().c_str(), 1);
  CHECK(dstk::TempDir() == dir.path());
  {
    auto fd = dstk::OpenUnlinkedTempFile("dstk-test");
    REQUIRE(fd.ok());
    CHECK(std::filesystem::is_empty(dir.path()));  // unlinked at once
    const char data[] = "scratch";
    REQUIRE(::pwrite(fd->get(), data, sizeof data, 0) == static_cast<ssize_t>(sizeof data));
    char back[sizeof data] = {};
    REQUIRE(::pread(fd->get(), back, sizeof back, 0) == static_cast<ssize_t>(sizeof back));
    CHECK(std::memcmp(data, back, sizeof data) == 0);
    CHECK((::fcntl(fd->get(), F_GETFD) & FD_CLOEXEC) != 0);
  }
  ::setenv("TMPDIR", "", 1);
  CHECK(dstk::TempDir() == "/tmp");
  ::unsetenv("TMPDIR");
  CHECK(dstk::TempDir() == "/tmp");
  ::setenv("TMPDIR", (dir.path() + "/missing").c_str(), 1);
  CHECK_FALSE(dstk::OpenUnlinkedTempFile("dstk-test").ok());  // an error, not a crash
  if (old != nullptr) {
    ::setenv("TMPDIR", saved.c_str(), 1);
  } else {
    ::unsetenv("TMPDIR");
  }
}
