#include "stream/split_join.h"

#include <algorithm>
#include <map>
#include <optional>

#include "client/revision.h"
#include "codec/segment.h"
#include "util/fd_io.h"
#include "util/segment_reader.h"
#include "wire/record.h"

namespace dstk::stream {
namespace {

Status WriteAll(int fd, const std::string& s) {
  return dstk::WriteAll(fd, {reinterpret_cast<const uint8_t*>(s.data()), s.size()});
}

}  // namespace

Status Split(int in, int out, const SplitOptions& o, const client::ProgressSink& progress) {
  auto coder = codec::ErasureCoder::Create(static_cast<int>(o.k), static_cast<int>(o.n));
  if (!coder.ok()) return coder.status();
  if (o.segment_size == 0 || o.segment_size > codec::kMaxSegmentSize) {
    return Status::Invalid("segment size must be 1.." + std::to_string(codec::kMaxSegmentSize));
  }
  codec::SegmentEncoder encoder(*coder);
  const uint64_t rev = client::NewRevision(0);
  uint64_t known_size = codec::kUnknownSize;
  uint32_t known_segs = codec::kUnknownCount;
  if (const uint64_t len = KnownLength(in); len != kUnknownLength) {
    known_size = len;
    known_segs =
        static_cast<uint32_t>(std::max<uint64_t>(1, (len + o.segment_size - 1) / o.segment_size));
  }
  SegmentReader reader(in, o.segment_size);
  std::vector<std::string> heads;
  std::vector<std::span<const uint8_t>> parts;
  uint64_t total = 0;
  uint32_t seg = 0;
  while (!reader.done()) {
    auto segment = reader.Next();
    if (!segment.ok()) return segment.status();
    codec::SliceHeader h;
    h.name = o.name;
    h.rev = rev;
    h.seg = seg;
    h.k = o.k;
    h.n = o.n;
    h.seglen = static_cast<uint32_t>(segment->size());
    h.segsize = o.segment_size;
    h.size = known_size;
    h.segs = known_segs;
    const auto& payloads = encoder.Encode(*segment);
    // The segment's n records leave in one writev, payloads straight from the encoder's buffers
    // (no copy: split runs at the speed of read + encode + CRC, see bench/README.md).
    heads.resize(o.n);
    parts.clear();
    for (uint32_t i = 0; i < o.n; ++i) {
      h.idx = i;
      h.crc = codec::ComputeSliceCrc(h, payloads[i]);
      heads[i] = wire::EncodeSliceRecordHead(h, payloads[i].size());
      parts.emplace_back(reinterpret_cast<const uint8_t*>(heads[i].data()), heads[i].size());
      parts.push_back(payloads[i]);
    }
    DSTK_RETURN_IF_ERROR(WriteAllGathered(out, parts));
    total += segment->size();
    if (progress) progress(total, 0);
    ++seg;
  }
  wire::Manifest m;
  m.rev = rev;
  m.size = total;
  m.segs = seg;
  m.segsize = o.segment_size;
  m.k = o.k;
  m.n = o.n;
  return WriteAll(out, wire::EncodeObjectRecord(o.name, m));
}

namespace {

// Slices of one segment gathered so far, owning their records.
struct Pending {
  std::map<uint32_t, msgpack::object_handle> records;  // pillar -> record
  std::map<uint32_t, wire::SliceRecord> slices;
  uint32_t seglen = 0;
};

class Joiner {
 public:
  explicit Joiner(int out) : out_(out) {}

  Status Add(msgpack::object_handle&& record);
  Status Finish();

 private:
  Status Flush();

  int out_;
  std::optional<codec::SliceHeader> first_;  // identity of the object being joined
  std::optional<wire::ObjectRecord> object_;
  std::map<uint32_t, Pending> pending_;  // segments not yet written
  std::vector<uint8_t> buffer_;
  std::shared_ptr<const codec::ErasureCoder> coder_;
  uint32_t next_seg_ = 0;
  uint64_t written_ = 0;
  uint64_t skipped_bad_ = 0;
};

Status Joiner::Add(msgpack::object_handle&& record) {
  auto type = wire::RecordType(record.get());
  if (!type.ok()) return type.status();
  if (*type == "object") {
    auto obj = wire::AsObjectRecord(record.get());
    if (!obj.ok()) return obj.status();
    object_ = *obj;
    return Status::Ok();
  }
  if (*type != "slice") return Status::Ok();  // other record types pass through unjoined
  auto s = wire::AsSliceRecord(record.get());
  if (!s.ok()) return s.status();
  if (!codec::VerifySlice(s->header, s->payload).ok()) {
    ++skipped_bad_;  // a damaged record is as good as a lost one: k others may still do
    return Status::Ok();
  }
  const codec::SliceHeader& h = s->header;
  if (!first_) {
    first_ = h;
    auto c = codec::ErasureCoder::Create(static_cast<int>(h.k), static_cast<int>(h.n));
    if (!c.ok()) return Status::Corruption(c.status().message());
    coder_ = *c;
  } else if (h.name != first_->name || h.rev != first_->rev || h.k != first_->k ||
             h.n != first_->n || h.segsize != first_->segsize) {
    return Status::Corruption("the stream mixes objects or revisions (" + first_->name + " and " +
                              h.name + ")");
  }
  if (h.seg < next_seg_) return Status::Ok();  // that segment is already written
  Pending& p = pending_[h.seg];
  if (p.slices.count(h.idx)) return Status::Ok();  // a duplicate
  if (!p.slices.empty() && p.seglen != h.seglen) {
    return Status::Corruption("slices of segment " + std::to_string(h.seg) +
                              " disagree on its length");
  }
  p.seglen = h.seglen;
  p.slices.emplace(h.idx, *s);
  p.records.emplace(h.idx, std::move(record));
  return Flush();
}

// Writes every complete segment that is next in order.
Status Joiner::Flush() {
  while (!pending_.empty() && pending_.begin()->first == next_seg_ &&
         pending_.begin()->second.slices.size() >= first_->k) {
    Pending& p = pending_.begin()->second;
    std::vector<int> idx;
    std::vector<std::span<const uint8_t>> payloads;
    for (const auto& [i, s] : p.slices) {
      if (idx.size() == first_->k) break;
      idx.push_back(static_cast<int>(i));
      payloads.push_back(s.payload);
    }
    DSTK_RETURN_IF_ERROR(codec::DecodeSegment(*coder_, p.seglen, idx, payloads, buffer_));
    DSTK_RETURN_IF_ERROR(dstk::WriteAll(out_, buffer_));
    written_ += buffer_.size();
    pending_.erase(pending_.begin());
    ++next_seg_;
  }
  return Status::Ok();
}

Status Joiner::Finish() {
  if (!first_) return Status::Corruption("the stream holds no intact slice record");
  uint32_t segs = first_->segs;
  uint64_t size = first_->size;
  if (object_) {
    segs = object_->manifest.segs;
    size = object_->manifest.size;
  }
  const std::string bad =
      skipped_bad_ ? " (" + std::to_string(skipped_bad_) + " damaged records skipped)" : "";
  if (next_seg_ < segs || segs == codec::kUnknownCount) {
    if (segs == codec::kUnknownCount && pending_.empty()) {
      return Status::Corruption("the stream lacks its object record, so its end cannot be checked");
    }
    const uint32_t missing = next_seg_;
    const size_t have = pending_.count(missing) ? pending_[missing].slices.size() : 0;
    return Status::Corruption("segment " + std::to_string(missing) + " has " +
                              std::to_string(have) +
                              " intact slices, need k=" + std::to_string(first_->k) + bad);
  }
  if (size != codec::kUnknownSize && written_ != size) {
    return Status::Corruption("joined " + std::to_string(written_) + " bytes, the object has " +
                              std::to_string(size));
  }
  return Status::Ok();
}

}  // namespace

Status Join(int in, int out) {
  wire::RecordReader reader(in);
  Joiner joiner(out);
  for (;;) {
    auto rec = reader.Next();
    if (!rec.ok()) return rec.status();
    if (!rec->has_value()) break;
    DSTK_RETURN_IF_ERROR(joiner.Add(std::move(**rec)));
  }
  return joiner.Finish();
}

}  // namespace dstk::stream
