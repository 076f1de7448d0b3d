// What a storage unit does with one request: decode, check, apply to the store, reply.
// Transport-free, so tests drive it directly; node/server.h puts it behind a ROUTER socket.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "store/slice_store.h"
#include "wire/message.h"

namespace dstk::node {

// One reply ready to send: frame 1, and frame 2 when `payload` is set.
struct Outgoing {
  std::string header;
  std::vector<uint8_t> file;  // owns the bytes `payload` points into
  std::span<const uint8_t> payload;
  bool has_payload = false;
};

// A notable event for the operator's log, with its level.
enum class LogLevel { kError, kWarn, kInfo, kDebug };
using LogSink = std::function<void(LogLevel, const std::string&)>;

class Service {
 public:
  // `version` is what stat reports as the unit's software version.
  Service(store::SliceStore& store, LogSink log, std::string version);

  // Handles one request given as its frames (header, and payload for put_slice). Malformed
  // input is answered with bad_request and never throws.
  Outgoing Handle(std::span<const uint8_t> header, std::span<const uint8_t> payload,
                  bool has_payload);

 private:
  wire::Reply HandleClaim(const wire::Request& r, Outgoing& out);
  wire::Reply Dispatch(const wire::Request& r, std::span<const uint8_t> payload, bool has_payload,
                       Outgoing& out);

  store::SliceStore& store_;
  LogSink log_;
  std::string version_;
};

// Maps a store Status onto the wire status a client sees.
wire::ReplyStatus ReplyStatusFor(const Status& s);

}  // namespace dstk::node
