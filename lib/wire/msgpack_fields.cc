#include "wire/msgpack_fields.h"

#include <algorithm>
#include <limits>

#include "codec/digest.h"
#include "wire/limits.h"

namespace dstk::wire::mp {

msgpack::unpack_limit HeaderLimits() {
  // array, map, str, bin, ext, depth
  return msgpack::unpack_limit(2 * kMaxListPage, 64, 4096, kMaxPayloadFrame, 0, 8);
}

Result<msgpack::object_handle> UnpackBounded(std::span<const uint8_t> bytes) {
  try {
    size_t offset = 0;
    msgpack::object_handle oh =
        msgpack::unpack(reinterpret_cast<const char*>(bytes.data()), bytes.size(), offset, nullptr,
                        nullptr, HeaderLimits());
    if (offset != bytes.size()) return Status::Invalid("trailing bytes after the msgpack map");
    return oh;
  } catch (const msgpack::insufficient_bytes&) {
    return Status::Invalid("truncated msgpack");
  } catch (const msgpack::depth_size_overflow&) {
    return Status::Invalid("msgpack nested too deep");
  } catch (const msgpack::size_overflow&) {
    return Status::Invalid("msgpack container or string over the size limit");
  } catch (const std::exception& e) {
    return Status::Invalid(std::string("malformed msgpack: ") + e.what());
  }
}

Status ForEachField(const msgpack::object& map,
                    const std::function<Status(std::string_view, const msgpack::object&)>& visit) {
  if (map.type != msgpack::type::MAP) return Status::Invalid("expected a msgpack map");
  for (uint32_t i = 0; i < map.via.map.size; ++i) {
    const msgpack::object_kv& kv = map.via.map.ptr[i];
    if (kv.key.type != msgpack::type::STR) return Status::Invalid("map key is not a string");
    DSTK_RETURN_IF_ERROR(visit(std::string_view(kv.key.via.str.ptr, kv.key.via.str.size), kv.val));
  }
  return Status::Ok();
}

namespace {
Status TypeError(std::string_view key, const char* want) {
  return Status::Invalid("field '" + std::string(key) + "' must be " + want);
}
}  // namespace

Status ReadU64(const msgpack::object& o, std::string_view key, uint64_t& out) {
  if (o.type != msgpack::type::POSITIVE_INTEGER) return TypeError(key, "an unsigned integer");
  out = o.via.u64;
  return Status::Ok();
}

Status ReadU32(const msgpack::object& o, std::string_view key, uint32_t& out) {
  uint64_t v = 0;
  DSTK_RETURN_IF_ERROR(ReadU64(o, key, v));
  if (v > std::numeric_limits<uint32_t>::max()) return TypeError(key, "a 32-bit unsigned integer");
  out = static_cast<uint32_t>(v);
  return Status::Ok();
}

Status ReadBool(const msgpack::object& o, std::string_view key, bool& out) {
  if (o.type != msgpack::type::BOOLEAN) return TypeError(key, "a boolean");
  out = o.via.boolean;
  return Status::Ok();
}

Status ReadBin(const msgpack::object& o, std::string_view key, size_t max, std::string& out) {
  if (o.type != msgpack::type::BIN) return TypeError(key, "binary");
  if (o.via.bin.size > max) return TypeError(key, "shorter binary");
  out.assign(o.via.bin.ptr, o.via.bin.size);
  return Status::Ok();
}

Status ReadString(const msgpack::object& o, std::string_view key, std::string& out) {
  if (o.type != msgpack::type::STR) return TypeError(key, "a string");
  if (o.via.str.size > kMaxHeaderFrame) return TypeError(key, "a shorter string");
  out.assign(o.via.str.ptr, o.via.str.size);
  return Status::Ok();
}

void PackSliceHeaderFields(Packer& p, const codec::SliceHeader& h) {
  p.pack("name"), p.pack(h.name);
  p.pack("rev"), p.pack(h.rev);
  p.pack("seg"), p.pack(h.seg);
  p.pack("segs"), p.pack(h.segs);
  p.pack("idx"), p.pack(h.idx);
  p.pack("k"), p.pack(h.k);
  p.pack("n"), p.pack(h.n);
  p.pack("size"), p.pack(h.size);
  p.pack("seglen"), p.pack(h.seglen);
  p.pack("segsize"), p.pack(h.segsize);
  p.pack("crc"), p.pack(h.crc);
}

void PackSliceHeader(Packer& p, const codec::SliceHeader& h) {
  p.pack_map(kSliceHeaderFields);
  PackSliceHeaderFields(p, h);
}

Status ReadSliceHeader(const msgpack::object& o, codec::SliceHeader& h) {
  uint32_t seen = 0;
  DSTK_RETURN_IF_ERROR(ForEachField(o, [&](std::string_view key, const msgpack::object& v) {
    if (key == "name") return seen |= 1u << 0, ReadString(v, key, h.name);
    if (key == "rev") return seen |= 1u << 1, ReadU64(v, key, h.rev);
    if (key == "seg") return seen |= 1u << 2, ReadU32(v, key, h.seg);
    if (key == "segs") return seen |= 1u << 3, ReadU32(v, key, h.segs);
    if (key == "idx") return seen |= 1u << 4, ReadU32(v, key, h.idx);
    if (key == "k") return seen |= 1u << 5, ReadU32(v, key, h.k);
    if (key == "n") return seen |= 1u << 6, ReadU32(v, key, h.n);
    if (key == "size") return seen |= 1u << 7, ReadU64(v, key, h.size);
    if (key == "seglen") return seen |= 1u << 8, ReadU32(v, key, h.seglen);
    if (key == "segsize") return seen |= 1u << 9, ReadU32(v, key, h.segsize);
    if (key == "crc") return seen |= 1u << 10, ReadU32(v, key, h.crc);
    return Status::Ok();  // unknown keys are ignored
  }));
  if (seen != (1u << 11) - 1) return Status::Invalid("slice header lacks a field");
  return Status::Ok();
}

void PackManifestShape(Packer& p, const Manifest& m) {
  p.pack("rev"), p.pack(m.rev);
  p.pack("size"), p.pack(m.size);
  p.pack("segs"), p.pack(m.segs);
  p.pack("segsize"), p.pack(m.segsize);
  p.pack("k"), p.pack(m.k);
  p.pack("n"), p.pack(m.n);
}

void PackManifest(Packer& p, const Manifest& m) {
  p.pack_map(kManifestShapeFields + 1 + (m.token != 0 ? 1 : 0) + (m.placement.empty() ? 0 : 1) +
             (m.pgen != 0 ? 1 : 0) + (m.hashed() ? 2 : 0));
  PackManifestShape(p, m);
  p.pack("tomb"), p.pack(m.tomb);
  if (m.token != 0) p.pack("token"), p.pack(m.token);
  if (!m.placement.empty()) {
    p.pack("placement");
    p.pack_array(static_cast<uint32_t>(m.placement.size()));
    for (const auto& id : m.placement) p.pack(id);
  }
  if (m.pgen != 0) p.pack("pgen"), p.pack(m.pgen);
  if (m.hashed()) {
    p.pack("hashes"), p.pack_bin(static_cast<uint32_t>(m.hashes.size()));
    p.pack_bin_body(m.hashes.data(), static_cast<uint32_t>(m.hashes.size()));
    p.pack("root"), p.pack_bin(static_cast<uint32_t>(m.root.size()));
    p.pack_bin_body(m.root.data(), static_cast<uint32_t>(m.root.size()));
  }
}

namespace {

bool IsUnitIdText(const std::string& id) {
  return id.size() == 16 && std::all_of(id.begin(), id.end(), [](char ch) {
           return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
         });
}

// A manifest's placement: an array of unit ids, one per pillar.
Status ReadPlacement(const msgpack::object& v, std::vector<std::string>& out) {
  if (v.type != msgpack::type::ARRAY) return Status::Invalid("'placement' is not an array");
  if (v.via.array.size > 255) return Status::Invalid("'placement' has more than 255 units");
  out.clear();
  for (uint32_t i = 0; i < v.via.array.size; ++i) {
    std::string id;
    DSTK_RETURN_IF_ERROR(ReadString(v.via.array.ptr[i], "placement", id));
    if (!IsUnitIdText(id)) return Status::Invalid("'placement' holds a malformed unit id");
    out.push_back(std::move(id));
  }
  return Status::Ok();
}

// A manifest's digests: none at all, or one per slice with `root` the digest of the list.
Status CheckHashes(const Manifest& m) {
  if (m.hashes.empty() && m.root.empty()) return Status::Ok();
  if (m.tomb) return Status::Invalid("a tombstone's manifest carries slice hashes");
  if (m.hashes.size() != uint64_t{m.segs} * m.n * codec::kDigestSize) {
    return Status::Invalid("manifest's 'hashes' is not one digest per slice");
  }
  const codec::Digest root =
      codec::Sha256({reinterpret_cast<const uint8_t*>(m.hashes.data()), m.hashes.size()});
  if (m.root != codec::DigestBytes(root)) {
    return Status::Invalid("manifest's 'root' is not the digest of its 'hashes'");
  }
  return Status::Ok();
}

}  // namespace

Status ReadManifest(const msgpack::object& o, Manifest& m) {
  uint32_t seen = 0;
  DSTK_RETURN_IF_ERROR(ForEachField(o, [&](std::string_view key, const msgpack::object& v) {
    if (key == "rev") return seen |= 1u << 0, ReadU64(v, key, m.rev);
    if (key == "size") return seen |= 1u << 1, ReadU64(v, key, m.size);
    if (key == "segs") return seen |= 1u << 2, ReadU32(v, key, m.segs);
    if (key == "segsize") return seen |= 1u << 3, ReadU32(v, key, m.segsize);
    if (key == "k") return seen |= 1u << 4, ReadU32(v, key, m.k);
    if (key == "n") return seen |= 1u << 5, ReadU32(v, key, m.n);
    if (key == "tomb") return seen |= 1u << 6, ReadBool(v, key, m.tomb);
    if (key == "token") return ReadU64(v, key, m.token);
    if (key == "placement") return ReadPlacement(v, m.placement);
    if (key == "pgen") return ReadU32(v, key, m.pgen);
    if (key == "hashes") return ReadBin(v, key, kMaxManifestHashes, m.hashes);
    if (key == "root") return ReadBin(v, key, codec::kDigestSize, m.root);
    return Status::Ok();
  }));
  if ((seen & 0x3f) != 0x3f) return Status::Invalid("manifest lacks a field");  // tomb is optional
  if (!m.placement.empty() && m.placement.size() != m.n)
    return Status::Invalid("manifest's placement does not name n units");
  if (!m.tomb && (m.k < 1 || m.n < m.k || m.segsize == 0 || m.segsize > codec::kMaxSegmentSize)) {
    return Status::Invalid("manifest has bad k/n/segsize");
  }
  return CheckHashes(m);
}

}  // namespace dstk::wire::mp
