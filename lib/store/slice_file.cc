#include "store/slice_file.h"

#include <cstring>

#include "wire/msgpack_fields.h"

namespace dstk::store {
namespace {
constexpr char kMagic[4] = {'D', 'S', 'S', '1'};
constexpr size_t kFixed = 8;  // magic + header length
}  // namespace

std::string EncodeSliceFilePrefix(const codec::SliceHeader& h) {
  msgpack::sbuffer buf;
  wire::mp::Packer p(buf);
  wire::mp::PackSliceHeader(p, h);
  std::string out(kMagic, sizeof kMagic);
  const auto len = static_cast<uint32_t>(buf.size());
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(len >> (8 * i)));
  out.append(buf.data(), buf.size());
  return out;
}

Status DecodeSliceFile(std::span<const uint8_t> file, codec::SliceHeader& h,
                       std::span<const uint8_t>& payload) {
  if (file.size() < kFixed || std::memcmp(file.data(), kMagic, sizeof kMagic) != 0) {
    return Status::Corruption("not a slice file (bad magic or truncated)");
  }
  uint32_t len = 0;
  for (int i = 0; i < 4; ++i) len |= uint32_t{file[4 + i]} << (8 * i);
  if (len > file.size() - kFixed) return Status::Corruption("slice file truncated in its header");
  auto oh = wire::mp::UnpackBounded(file.subspan(kFixed, len));
  if (!oh.ok()) return Status::Corruption("slice file header: " + oh.status().message());
  Status st = wire::mp::ReadSliceHeader(oh->get(), h);
  if (!st.ok()) return Status::Corruption("slice file header: " + st.message());
  payload = file.subspan(kFixed + len);
  return codec::VerifySlice(h, payload);
}

}  // namespace dstk::store
