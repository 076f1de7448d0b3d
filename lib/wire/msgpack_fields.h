// The shared msgpack helpers for every record dstk encodes: wire's messages and record streams,
// and the layers above wire that keep their own records in msgpack (store's manifests, slice
// files and claim states; claim's functions, signatures and claim records). One place reads and
// writes them so that every layer parses untrusted bytes the same way: bounded unpacking (a
// hostile message cannot make us allocate much), and typed field access that checks the msgpack
// type before converting, so a wrong-typed field is an error value, never an exception or a
// silent truncation. The slice header and the manifest are packed here too because both wire's
// messages and store's files embed them.
//
// Namespace `mp` (msgpack), not `detail`: these are public to the layers that link wire.
#pragma once

#include <cstdint>
#include <functional>
#include <msgpack.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "codec/slice.h"
#include "util/status.h"
#include "wire/message.h"

namespace dstk::wire::mp {

// Unpacks exactly one msgpack value filling all of `bytes`, with limits on container sizes and
// nesting so that a hostile message cannot make us allocate much.
Result<msgpack::object_handle> UnpackBounded(std::span<const uint8_t> bytes);

// The msgpack limits used for headers (container sizes, depth, string and bin lengths).
msgpack::unpack_limit HeaderLimits();

// Calls `visit(key, value)` for each entry of a map whose keys are strings.
Status ForEachField(const msgpack::object& map,
                    const std::function<Status(std::string_view, const msgpack::object&)>& visit);

Status ReadU64(const msgpack::object& o, std::string_view key, uint64_t& out);
Status ReadU32(const msgpack::object& o, std::string_view key, uint32_t& out);
Status ReadBool(const msgpack::object& o, std::string_view key, bool& out);
Status ReadString(const msgpack::object& o, std::string_view key, std::string& out);
// A msgpack bin of at most `max` bytes.
Status ReadBin(const msgpack::object& o, std::string_view key, size_t max, std::string& out);

// Reads an optional sub-record: `field` holds a value from now on, filled in by `read`.
template <typename T, typename Reader>
Status ReadOptional(const msgpack::object& o, std::optional<T>& field, Reader read) {
  return read(o, field.emplace());
}

using Packer = msgpack::packer<msgpack::sbuffer>;

// The 11 key/value pairs of a slice header, for maps that carry more (slice records).
inline constexpr uint32_t kSliceHeaderFields = 11;
void PackSliceHeaderFields(Packer& p, const codec::SliceHeader& h);
void PackSliceHeader(Packer& p, const codec::SliceHeader& h);
Status ReadSliceHeader(const msgpack::object& o, codec::SliceHeader& h);

// The 6 key/value pairs that say what a revision is made of (rev, size, segs, segsize, k, n):
// the core of a manifest, and all of it that an object record of a slice stream carries.
inline constexpr uint32_t kManifestShapeFields = 6;
void PackManifestShape(Packer& p, const Manifest& m);
void PackManifest(Packer& p, const Manifest& m);
Status ReadManifest(const msgpack::object& o, Manifest& m);

}  // namespace dstk::wire::mp
