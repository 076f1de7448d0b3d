// Record streams: what crosses a pipe between the tools (`dsenc split | dsenc join`,
// `dsclaim | dsrun`). A stream is a plain concatenation of msgpack maps, each with a `type`
// key first, so any record can be printed (`dsenc inspect`) without knowing its type.
//
//   {type:"slice", name, rev, seg, segs, idx, k, n, size, seglen, segsize, crc, data:<bin>}
//   {type:"object", name, rev, size, segs, segsize, k, n}   -- ends one object in a split stream
#pragma once

#include <cstdint>
#include <msgpack.hpp>
#include <optional>
#include <span>
#include <string>

#include "codec/slice.h"
#include "util/status.h"
#include "wire/message.h"

namespace dstk::wire {

std::string EncodeSliceRecord(const codec::SliceHeader& h, std::span<const uint8_t> payload);
// The same record without its payload: everything up to and including the `data` bin's
// length prefix, so a writer can send header and payload with one writev and copy nothing.
std::string EncodeSliceRecordHead(const codec::SliceHeader& h, size_t payload_size);
std::string EncodeObjectRecord(const std::string& name, const Manifest& m);

// A slice record decoded: the header plus a view of the payload inside the record's memory.
struct SliceRecord {
  codec::SliceHeader header;
  std::span<const uint8_t> payload;
};

struct ObjectRecord {
  std::string name;
  Manifest manifest;
};

// The `type` of a record, or an error when it is not a map with a string `type`.
Result<std::string> RecordType(const msgpack::object& record);
Result<SliceRecord> AsSliceRecord(const msgpack::object& record);
Result<ObjectRecord> AsObjectRecord(const msgpack::object& record);

// Reads records one at a time from a file descriptor, holding at most one record (bounded by
// kMaxRecord) in memory. Untrusted input: malformed or oversized data is an error.
class RecordReader {
 public:
  explicit RecordReader(int fd);

  // The next record, std::nullopt at a clean end of stream, kCorruption on garbage or a
  // record cut short, kIoError when read() fails.
  Result<std::optional<msgpack::object_handle>> Next();

 private:
  int fd_;
  bool eof_ = false;
  msgpack::unpacker unpacker_;
};

// One record as a JSON line (no newline). Binary fields become {"bytes":N,"crc32c":"xxxxxxxx"}.
std::string RecordToJson(const msgpack::object& record);

}  // namespace dstk::wire
