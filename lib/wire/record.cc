#include "wire/record.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

#include "codec/crc32c.h"
#include "wire/limits.h"
#include "wire/msgpack_fields.h"

namespace dstk::wire {
namespace {

using mp::Packer;

nlohmann::ordered_json ToJson(const msgpack::object& o) {
  switch (o.type) {
    case msgpack::type::NIL:
      return nullptr;
    case msgpack::type::BOOLEAN:
      return o.via.boolean;
    case msgpack::type::POSITIVE_INTEGER:
      return o.via.u64;
    case msgpack::type::NEGATIVE_INTEGER:
      return o.via.i64;
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64:
      return o.via.f64;
    case msgpack::type::STR:
      return std::string(o.via.str.ptr, o.via.str.size);
    case msgpack::type::BIN: {
      char crc[9];
      std::snprintf(
          crc, sizeof crc, "%08x",
          codec::Crc32c({reinterpret_cast<const uint8_t*>(o.via.bin.ptr), o.via.bin.size}));
      return {{"bytes", o.via.bin.size}, {"crc32c", crc}};
    }
    case msgpack::type::ARRAY: {
      auto a = nlohmann::ordered_json::array();
      for (uint32_t i = 0; i < o.via.array.size; ++i) a.push_back(ToJson(o.via.array.ptr[i]));
      return a;
    }
    case msgpack::type::MAP: {
      auto m = nlohmann::ordered_json::object();
      for (uint32_t i = 0; i < o.via.map.size; ++i) {
        const auto& kv = o.via.map.ptr[i];
        std::string key =
            kv.key.type == msgpack::type::STR
                ? std::string(kv.key.via.str.ptr, kv.key.via.str.size)
                : ToJson(kv.key).dump(-1, ' ', false,
                                      nlohmann::ordered_json::error_handler_t::replace);
        m[key] = ToJson(kv.val);
      }
      return m;
    }
    case msgpack::type::EXT:
      return {{"ext", o.via.ext.type()}, {"bytes", o.via.ext.size}};
  }
  return nullptr;
}

}  // namespace

std::string EncodeSliceRecordHead(const codec::SliceHeader& h, size_t payload_size) {
  msgpack::sbuffer buf(256);
  Packer p(buf);
  p.pack_map(mp::kSliceHeaderFields + 2);
  p.pack("type"), p.pack("slice");
  mp::PackSliceHeaderFields(p, h);
  p.pack("data");
  p.pack_bin(static_cast<uint32_t>(payload_size));
  return std::string(buf.data(), buf.size());
}

std::string EncodeSliceRecord(const codec::SliceHeader& h, std::span<const uint8_t> payload) {
  std::string record = EncodeSliceRecordHead(h, payload.size());
  record.append(reinterpret_cast<const char*>(payload.data()), payload.size());
  return record;
}

std::string EncodeObjectRecord(const std::string& name, const Manifest& m) {
  msgpack::sbuffer buf;
  Packer p(buf);
  p.pack_map(2 + mp::kManifestShapeFields);
  p.pack("type"), p.pack("object");
  p.pack("name"), p.pack(name);
  mp::PackManifestShape(p, m);
  return std::string(buf.data(), buf.size());
}

Result<std::string> RecordType(const msgpack::object& record) {
  if (record.type != msgpack::type::MAP || record.via.map.size == 0) {
    return Status::Corruption("record is not a msgpack map");
  }
  for (uint32_t i = 0; i < record.via.map.size; ++i) {
    const auto& kv = record.via.map.ptr[i];
    if (kv.key.type == msgpack::type::STR &&
        std::string_view(kv.key.via.str.ptr, kv.key.via.str.size) == "type") {
      if (kv.val.type != msgpack::type::STR)
        return Status::Corruption("record 'type' is not a string");
      return std::string(kv.val.via.str.ptr, kv.val.via.str.size);
    }
  }
  return Status::Corruption("record has no 'type'");
}

Result<SliceRecord> AsSliceRecord(const msgpack::object& record) {
  SliceRecord r;
  bool has_data = false;
  Status st = mp::ReadSliceHeader(record, r.header);
  if (st.ok()) {
    st = mp::ForEachField(record, [&](std::string_view key, const msgpack::object& v) {
      if (key != "data") return Status::Ok();
      if (v.type != msgpack::type::BIN) return Status::Invalid("field 'data' must be binary");
      has_data = true;
      r.payload = {reinterpret_cast<const uint8_t*>(v.via.bin.ptr), v.via.bin.size};
      return Status::Ok();
    });
  }
  if (st.ok() && !has_data) st = Status::Invalid("slice record has no 'data'");
  if (!st.ok()) return Status::Corruption("bad slice record: " + st.message());
  return r;
}

Result<ObjectRecord> AsObjectRecord(const msgpack::object& record) {
  ObjectRecord r;
  Status st = mp::ForEachField(record, [&](std::string_view key, const msgpack::object& v) {
    if (key == "name") return mp::ReadString(v, key, r.name);
    return Status::Ok();
  });
  if (st.ok()) st = mp::ReadManifest(record, r.manifest);  // ignores the extra keys
  if (!st.ok()) return Status::Corruption("bad object record: " + st.message());
  return r;
}

RecordReader::RecordReader(int fd)
    : fd_(fd), unpacker_(nullptr, nullptr, 1u << 20, mp::HeaderLimits()) {}

Result<std::optional<msgpack::object_handle>> RecordReader::Next() {
  for (;;) {
    msgpack::object_handle oh;
    try {
      if (unpacker_.next(oh)) return std::optional<msgpack::object_handle>(std::move(oh));
    } catch (const std::exception& e) {
      return Status::Corruption(std::string("malformed record stream: ") + e.what());
    }
    if (eof_) {
      // parsed_size counts the tokens of a record begun but not finished.
      if (unpacker_.parsed_size() + unpacker_.nonparsed_size() != 0) {
        return Status::Corruption("record stream ends inside a record");
      }
      return std::optional<msgpack::object_handle>();
    }
    if (unpacker_.parsed_size() + unpacker_.nonparsed_size() > kMaxRecord) {
      return Status::Corruption("record larger than the limit");
    }
    constexpr size_t kChunk = 1u << 20;
    unpacker_.reserve_buffer(kChunk);
    ssize_t got;
    do {
      got = ::read(fd_, unpacker_.buffer(), kChunk);
    } while (got < 0 && errno == EINTR);
    if (got < 0) return Status::IoError(std::string("read: ") + std::strerror(errno));
    if (got == 0) eof_ = true;
    unpacker_.buffer_consumed(static_cast<size_t>(got));
  }
}

std::string RecordToJson(const msgpack::object& record) {
  // Names may hold bytes that are not UTF-8; show them replaced rather than fail.
  return ToJson(record).dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace dstk::wire
