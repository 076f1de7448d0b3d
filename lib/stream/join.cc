// dsenc join: any sufficient subset of a split stream's records back into the bytes
// (stream/split_join.h).
#include <map>
#include <optional>

#include "codec/segment.h"
#include "stream/split_join.h"
#include "util/fd_io.h"
#include "wire/record.h"

namespace dstk::stream {
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
