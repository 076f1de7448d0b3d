// libFuzzer target: the dsnode wire decoders (lib/wire/message.cc), the one place where
// untrusted request and reply frames are parsed. They must never crash, throw, leak or trip a
// sanitizer on any input; and what they accept must survive a round trip:
//   Encode(Decode(x)) decodes again, and encoding that gives the same bytes (a fixed point),
//   and PeekRequestId of an accepted request is its id.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>

#include "wire/limits.h"
#include "wire/message.h"

namespace {

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "wire_request_fuzz: invariant violated: %s\n", what);
  std::abort();
}

void CheckRequest(std::span<const uint8_t> bytes) {
  auto req = dstk::wire::DecodeRequest(bytes);
  const uint64_t peeked = dstk::wire::PeekRequestId(bytes);
  if (!req.ok()) return;
  if (peeked != req->id) Fail("PeekRequestId differs from the decoded request's id");
  const std::string once = dstk::wire::EncodeRequest(*req);
  // Encoding may add default fields; a re-encoding past the frame limit is refused by design.
  if (once.size() > dstk::wire::kMaxHeaderFrame) return;
  auto again = dstk::wire::DecodeRequest(Bytes(once));
  if (!again.ok()) Fail("an accepted request, re-encoded, no longer decodes");
  if (dstk::wire::EncodeRequest(*again) != once) Fail("request encoding is not a fixed point");
  if (dstk::wire::PeekRequestId(Bytes(once)) != req->id) Fail("re-encoded request lost its id");
}

void CheckReply(std::span<const uint8_t> bytes) {
  auto rep = dstk::wire::DecodeReply(bytes);
  if (!rep.ok()) return;
  const std::string once = dstk::wire::EncodeReply(*rep);
  if (once.size() > dstk::wire::kMaxHeaderFrame) return;
  auto again = dstk::wire::DecodeReply(Bytes(once));
  if (!again.ok()) Fail("an accepted reply, re-encoded, no longer decodes");
  if (dstk::wire::EncodeReply(*again) != once) Fail("reply encoding is not a fixed point");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> bytes(data, size);
  CheckRequest(bytes);
  CheckReply(bytes);
  return 0;
}
