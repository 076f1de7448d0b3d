// dsenc split, join and inspect: the offline record-stream subcommands.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "commands.h"
#include "progress.h"
#include "stream/split_join.h"
#include "util/unique_fd.h"
#include "util/work_crew.h"
#include "wire/record.h"

namespace dstk::tools::dsenc {
namespace {
constexpr const char* kTool = "dsenc";
}  // namespace

int Split(const Common& c, uint32_t k, uint32_t n, const std::string& name,
          const std::string& file) {
  if (::isatty(STDOUT_FILENO) == 1) {
    return Fail(kTool,
                Status::Invalid("split writes a binary record stream; redirect stdout or pipe it "
                                "(e.g. into 'dsenc inspect')"));
  }
  auto opened = OpenInput(file);
  if (!opened.ok()) return Fail(kTool, opened.status());
  const int fd = opened->valid() ? opened->get() : STDIN_FILENO;
  stream::SplitOptions o;
  o.k = k;
  o.n = n;
  o.name = name;
  o.segment_size = c.segment_size;
  o.threads = c.threads > 0 ? c.threads : WorkCrew::AvailableCores();
  ProgressBar bar(kTool, "split", c.verbosity.level > 0);
  Status st =
      stream::Split(fd, STDOUT_FILENO, o, [&bar](uint64_t d, uint64_t t) { bar.Update(d, t); });
  return st.ok() ? kExitOk : Fail(kTool, st);
}

int Join(const Common&) {
  Status st = stream::Join(STDIN_FILENO, STDOUT_FILENO);
  return st.ok() ? kExitOk : Fail(kTool, st);
}

int Inspect(const Common&) {
  wire::RecordReader reader(STDIN_FILENO);
  size_t count = 0;
  for (;;) {
    auto rec = reader.Next();
    if (!rec.ok()) return Fail(kTool, rec.status().With("record " + std::to_string(count + 1)));
    if (!rec->has_value()) break;
    const std::string line = wire::RecordToJson((*rec)->get());
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fputc('\n', stdout);
    ++count;
  }
  return std::fflush(stdout) == 0
             ? kExitOk
             : Fail(kTool, Status::IoError("write: " + std::string(std::strerror(errno))));
}

}  // namespace dstk::tools::dsenc
