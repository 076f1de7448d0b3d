// dsenc split: bytes in, a record stream of slices out (stream/split_join.h).
//
// Two ways through, one output. A regular file is mapped once: each thread of a crew takes the
// next segment, maps its pages, encodes and checksums it, and writes it when its turn comes, so
// several segments are in work at once. Mapping costs the kernel about as much as the encode
// (page tables built and torn down), and both scale with the threads (bench/README.md). Any
// other input (a pipe) is read a segment at a time by one thread: the pipe, not the encode,
// is its limit.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>

#include "codec/segment.h"
#include "stream/split_join.h"
#include "util/fd_io.h"
#include "util/file_map.h"
#include "util/segment_reader.h"
#include "util/work_crew.h"
#include "wire/record.h"
#include "wire/revision.h"

namespace dstk::stream {
namespace {

// One segment's n records, ready to leave in one writev: heads framed here, payloads straight
// from the encoder's buffers or the mapped file (no copy: see bench/README.md).
struct FramedSegment {
  std::vector<std::string> heads;
  std::vector<std::span<const uint8_t>> parts;  // head 0, payload 0, head 1, ...
  size_t bytes = 0;                             // the segment's length in the input
};

// Fills `f` with the records of one encoded segment.
void Frame(const codec::SliceHeader& h, const std::vector<std::span<const uint8_t>>& payloads,
           FramedSegment& f) {
  f.heads.resize(payloads.size());
  f.parts.clear();
  codec::SliceHeader hi = h;
  for (size_t i = 0; i < payloads.size(); ++i) {
    hi.idx = static_cast<uint32_t>(i);
    hi.crc = codec::ComputeSliceCrc(hi, payloads[i]);
    f.heads[i] = wire::EncodeSliceRecordHead(hi, payloads[i].size());
    f.parts.emplace_back(reinterpret_cast<const uint8_t*>(f.heads[i].data()), f.heads[i].size());
    f.parts.push_back(payloads[i]);
  }
  f.bytes = h.seglen;
}

// Lets parts that run side by side take turns in order: part i's turn comes after part i - 1
// called Done.
class InOrder {
 public:
  void Wait(size_t part) {
    std::unique_lock<std::mutex> lock(mu_);
    turn_.wait(lock, [&] { return next_ == part; });
  }
  void Done() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++next_;
    }
    turn_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable turn_;
  size_t next_ = 0;
};

class Splitter {
 public:
  Splitter(int out, const SplitOptions& o, std::shared_ptr<const codec::ErasureCoder> coder,
           const ProgressSink& progress)
      : out_(out),
        o_(o),
        coder_(std::move(coder)),
        progress_(progress),
        rev_(wire::NewRevision(0)) {}

  // A regular file's bytes [range.start, range.end), mapped segment by segment.
  Status SplitMapped(int in, const MappableRange& range);
  // Any input, read segment by segment.
  Status SplitRead(int in);

 private:
  codec::SliceHeader Header(uint32_t seg, size_t seglen) const;
  Status Write(const FramedSegment& f);
  Status Finish();

  int out_;
  const SplitOptions& o_;
  std::shared_ptr<const codec::ErasureCoder> coder_;
  const ProgressSink& progress_;
  uint64_t rev_;
  uint64_t known_size_ = codec::kUnknownSize;
  uint32_t known_segs_ = codec::kUnknownCount;
  uint64_t total_ = 0;
  uint32_t segs_ = 0;
};

codec::SliceHeader Splitter::Header(uint32_t seg, size_t seglen) const {
  codec::SliceHeader h;
  h.name = o_.name;
  h.rev = rev_;
  h.seg = seg;
  h.k = o_.k;
  h.n = o_.n;
  h.seglen = static_cast<uint32_t>(seglen);
  h.segsize = o_.segment_size;
  h.size = known_size_;
  h.segs = known_segs_;
  return h;
}

Status Splitter::Write(const FramedSegment& f) {
  DSTK_RETURN_IF_ERROR(WriteAllGathered(out_, f.parts));
  total_ += f.bytes;
  ++segs_;
  if (progress_) progress_(total_, known_size_ == codec::kUnknownSize ? 0 : known_size_);
  return Status::Ok();
}

Status Splitter::Finish() {
  wire::Manifest m;
  m.rev = rev_;
  m.size = total_;
  m.segs = segs_;
  m.segsize = o_.segment_size;
  m.k = o_.k;
  m.n = o_.n;
  const std::string record = wire::EncodeObjectRecord(o_.name, m);
  return WriteAll(out_, {reinterpret_cast<const uint8_t*>(record.data()), record.size()});
}

Status Splitter::SplitMapped(int in, const MappableRange& range) {
  const uint64_t len = range.end - range.start;
  known_size_ = len;
  known_segs_ =
      static_cast<uint32_t>(std::max<uint64_t>(1, (len + o_.segment_size - 1) / o_.segment_size));
  auto mapped = MappedRegion::Map(in, range.start, static_cast<size_t>(len), /*populate=*/false);
  if (!mapped.ok()) return mapped.status();
  const MappedRegion& file = *mapped;
  // Every thread takes the next segment, populates its pages, encodes and frames it, then waits
  // for its turn to write it. A thread holds one segment at a time, so at most crew-size
  // segments are in flight, and when segment s is taken, segment s - crew size has been written:
  // slot s % crew size is free.
  struct Slot {
    std::optional<codec::SegmentEncoder> encoder;
    FramedSegment framed;
  };
  WorkCrew crew(std::max(1u, o_.threads));
  std::vector<Slot> slots(crew.size());
  for (auto& s : slots) s.encoder.emplace(coder_);
  InOrder turns;
  Status first_error;               // written in turn only
  std::atomic<bool> failed{false};  // read out of turn: once a write failed, encode no more
  crew.Run(known_segs_, [&](size_t part) {
    const auto seg = static_cast<uint32_t>(part);
    Slot& slot = slots[part % slots.size()];
    const uint64_t at = static_cast<uint64_t>(seg) * o_.segment_size;
    const auto seglen = static_cast<size_t>(std::min<uint64_t>(o_.segment_size, len - at));
    if (!failed.load()) {
      file.Populate(at, seglen);
      Frame(Header(seg, seglen), slot.encoder->Encode(file.bytes().subspan(at, seglen)),
            slot.framed);
    }
    turns.Wait(part);
    if (first_error.ok()) {
      first_error = Write(slot.framed);
      if (!first_error.ok()) failed.store(true);
    }
    // Written (or never to be): its pages' mappings go, so memory stays a few segments.
    file.Release(at, seglen);
    turns.Done();
  });
  DSTK_RETURN_IF_ERROR(first_error);
  // Leave the descriptor's offset where reading would have left it. Unchecked: `in` is a
  // mapped regular file and the offset is within it, so lseek cannot fail.
  (void)::lseek(in, static_cast<off_t>(range.end), SEEK_SET);
  return Finish();
}

Status Splitter::SplitRead(int in) {
  if (const uint64_t len = KnownLength(in); len != kUnknownLength) {
    known_size_ = len;
    known_segs_ =
        static_cast<uint32_t>(std::max<uint64_t>(1, (len + o_.segment_size - 1) / o_.segment_size));
  }
  codec::SegmentEncoder encoder(coder_);
  SegmentReader reader(in, o_.segment_size);
  FramedSegment framed;
  while (!reader.done()) {
    auto segment = reader.Next();
    if (!segment.ok()) return segment.status();
    Frame(Header(segs_, segment->size()), encoder.Encode(*segment), framed);
    DSTK_RETURN_IF_ERROR(Write(framed));
  }
  return Finish();
}

}  // namespace

Status Split(int in, int out, const SplitOptions& o, const ProgressSink& progress) {
  auto coder = codec::ErasureCoder::Create(static_cast<int>(o.k), static_cast<int>(o.n));
  if (!coder.ok()) return coder.status();
  if (o.segment_size == 0 || o.segment_size > codec::kMaxSegmentSize) {
    return Status::Invalid("segment size must be 1.." + std::to_string(codec::kMaxSegmentSize));
  }
  Splitter splitter(out, o, *coder, progress);
  if (auto range = FindMappableRange(in, o.segment_size); range) {
    return splitter.SplitMapped(in, *range);
  }
  return splitter.SplitRead(in);
}

}  // namespace dstk::stream
