#include "claim/claim_record.h"

#include "codec/segment.h"
#include "wire/msgpack_fields.h"
#include "wire/record.h"

namespace dstk::claim {

using wire::mp::ForEachField;
using wire::mp::ReadString;
using wire::mp::ReadU32;
using wire::mp::ReadU64;

std::string EncodeClaimRecord(const Claim& c) {
  msgpack::sbuffer buf;
  wire::mp::Packer p(buf);
  p.pack_map(9);
  p.pack("type"), p.pack("claim");
  p.pack("queue"), p.pack(c.queue);
  p.pack("key"), p.pack(c.key);
  p.pack("token"), p.pack(c.ballot.n);
  p.pack("ballot_id"), p.pack(c.ballot.id);
  p.pack("mode"), p.pack(wire::ClaimModeName(c.mode));
  p.pack("lease_ms"), p.pack(c.lease_ms);
  p.pack("attempts"), p.pack(c.attempts);
  p.pack("slices");
  p.pack_array(static_cast<uint32_t>(c.slices.size()));
  std::string out(buf.data(), buf.size());
  // Each slice as a full slice record (type "slice"), so tools that read slices read these.
  for (const auto& [h, payload] : c.slices) out += wire::EncodeSliceRecord(h, payload);
  return out;
}

Result<Claim> DecodeClaimRecord(const msgpack::object& record) {
  Claim c;
  std::string type, mode;
  const msgpack::object* slices = nullptr;
  Status st = ForEachField(record, [&](std::string_view key, const msgpack::object& v) {
    if (key == "type") return ReadString(v, key, type);
    if (key == "queue") return ReadString(v, key, c.queue);
    if (key == "key") return ReadString(v, key, c.key);
    if (key == "token") return ReadU64(v, key, c.ballot.n);
    if (key == "ballot_id") return ReadU64(v, key, c.ballot.id);
    if (key == "mode") return ReadString(v, key, mode);
    if (key == "lease_ms") return ReadU32(v, key, c.lease_ms);
    if (key == "attempts") return ReadU32(v, key, c.attempts);
    if (key == "slices") {
      if (v.type != msgpack::type::ARRAY) return Status::Invalid("field 'slices' must be an array");
      slices = &v;
    }
    return Status::Ok();
  });
  if (!st.ok()) return Status::Corruption("claim record: " + st.message());
  if (type != "claim") return Status::Corruption("not a claim record");
  if (mode != "consume" && mode != "lease") return Status::Corruption("claim record: bad mode");
  c.mode = mode == "lease" ? wire::ClaimMode::kLease : wire::ClaimMode::kConsume;
  if (slices == nullptr) return Status::Corruption("claim record has no slices");
  for (uint32_t i = 0; i < slices->via.array.size; ++i) {
    auto s = wire::AsSliceRecord(slices->via.array.ptr[i]);
    if (!s.ok()) return s.status();
    c.slices.emplace_back(s->header, std::vector<uint8_t>(s->payload.begin(), s->payload.end()));
  }
  return c;
}

Result<Function> FunctionOf(const Claim& c) {
  if (c.slices.empty()) return Status::Corruption("claim carries no slices");
  const codec::SliceHeader& first = c.slices.front().first;
  auto coder = codec::ErasureCoder::Create(static_cast<int>(first.k), static_cast<int>(first.n));
  if (!coder.ok()) return Status::Corruption(coder.status().message());
  std::vector<int> idx;
  std::vector<std::span<const uint8_t>> payloads;
  for (const auto& [h, payload] : c.slices) {
    if (idx.size() == first.k) break;
    if (h.name != first.name || h.rev != first.rev || h.seg != 0 || h.seglen != first.seglen ||
        !codec::VerifySlice(h, payload).ok()) {
      continue;
    }
    if (std::find(idx.begin(), idx.end(), static_cast<int>(h.idx)) != idx.end()) continue;
    idx.push_back(static_cast<int>(h.idx));
    payloads.emplace_back(payload);
  }
  if (idx.size() < first.k) return Status::Corruption("claim carries fewer than k good slices");
  std::vector<uint8_t> bytes;
  DSTK_RETURN_IF_ERROR(codec::DecodeSegment(**coder, first.seglen, idx, payloads, bytes));
  return DecodeFunction(bytes);
}

}  // namespace dstk::claim
