// libFuzzer target: record streams (lib/wire/record.cc) and claim records
// (lib/claim/claim_record.cc), what `dsenc join/inspect` and `dsrun` read from a pipe. The input
// is put in a memfd and read back through dstk::wire::RecordReader, as a tool reads its stdin;
// every record is then handed to each record decoder. None may crash, throw, leak or trip a
// sanitizer. What the decoders accept must round-trip through the encoders.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <msgpack.hpp>
#include <string>

#include "claim/claim_record.h"
#include "codec/slice.h"
#include "util/fd_io.h"
#include "wire/record.h"

namespace {

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "record_stream_fuzz: invariant violated: %s\n", what);
  std::abort();
}

// Parses one encoded record back into a msgpack object.
msgpack::object_handle Reparse(const std::string& bytes) {
  try {
    return msgpack::unpack(bytes.data(), bytes.size());
  } catch (const std::exception&) {
    Fail("an encoder produced bytes msgpack cannot parse");
  }
}

void CheckRecord(const msgpack::object& record) {
  (void)dstk::wire::RecordType(record);
  (void)dstk::wire::RecordToJson(record);

  if (auto s = dstk::wire::AsSliceRecord(record); s.ok()) {
    (void)dstk::codec::VerifySlice(s->header, s->payload);
    auto oh = Reparse(dstk::wire::EncodeSliceRecord(s->header, s->payload));
    auto back = dstk::wire::AsSliceRecord(oh.get());
    if (!back.ok()) Fail("an accepted slice record, re-encoded, no longer decodes");
    if (back->payload.size() != s->payload.size()) Fail("slice record payload changed size");
  }

  if (auto o = dstk::wire::AsObjectRecord(record); o.ok()) {
    auto oh = Reparse(dstk::wire::EncodeObjectRecord(o->name, o->manifest));
    if (!dstk::wire::AsObjectRecord(oh.get()).ok()) {
      Fail("an accepted object record, re-encoded, no longer decodes");
    }
  }

  if (auto c = dstk::claim::DecodeClaimRecord(record); c.ok()) {
    // dsrun decodes the function a claim carries: as untrusted as the record itself.
    (void)dstk::claim::FunctionOf(*c);
    auto oh = Reparse(dstk::claim::EncodeClaimRecord(*c));
    auto back = dstk::claim::DecodeClaimRecord(oh.get());
    if (!back.ok()) Fail("an accepted claim record, re-encoded, no longer decodes");
    if (back->slices.size() != c->slices.size()) Fail("claim record lost slices");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  int fd = memfd_create("record_stream_fuzz", MFD_CLOEXEC);
  if (fd < 0) std::abort();
  if (!dstk::WriteAll(fd, {data, size}).ok() || lseek(fd, 0, SEEK_SET) != 0) std::abort();
  dstk::wire::RecordReader reader(fd);
  for (int i = 0; i < 10000; ++i) {
    auto rec = reader.Next();
    if (!rec.ok() || !rec->has_value()) break;
    CheckRecord((*rec)->get());
  }
  close(fd);
  return 0;
}
