#include "store/unit_id.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <random>
#include <span>
#include <vector>

#include "store/file_util.h"

namespace dstk::store {
namespace {

bool IsUnitId(std::string_view s) {
  return s.size() == 16 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

}  // namespace

Result<std::string> LoadOrCreateUnitId(const std::string& dir) {
  const std::string path = dir + "/" + kUnitIdFileName;
  auto existing = ReadFile(path);
  if (existing.ok()) {
    std::string id(existing->begin(), existing->end());
    while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
    if (!IsUnitId(id)) return Status::Corruption(path + " does not hold a unit id (16 hex digits)");
    return id;
  }
  if (existing.status().code() != Code::kNotFound) return existing.status();
  std::random_device rd;
  const uint64_t bits = uint64_t{rd()} << 32 | rd();
  char id[17];
  std::snprintf(id, sizeof id, "%016" PRIx64, bits);
  const std::string text = std::string(id) + "\n";
  const std::vector<std::span<const uint8_t>> parts = {
      {reinterpret_cast<const uint8_t*>(text.data()), text.size()}};
  DSTK_RETURN_IF_ERROR(WriteFileAtomic(path, parts));
  return std::string(id);
}

}  // namespace dstk::store
