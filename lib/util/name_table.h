// Enums named on the wire and in files: one table of (value, name) pairs per enum, read both
// ways, so that a name is written down once and the two directions cannot disagree.
//
//   constexpr std::array<std::pair<Op, const char*>, 2> kOps = {{{Op::kGet, "get"}, ...}};
//   const char* OpName(Op op) { return NameIn(kOps, op, "?"); }
//   std::optional<Op> OpFromName(std::string_view s) { return ValueIn(kOps, s); }
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>
#include <utility>

namespace dstk {

template <typename E, size_t N>
using NameTable = std::array<std::pair<E, const char*>, N>;

// The name of `value` in `table`, or `unknown` for a value the table lacks.
template <typename E, size_t N>
constexpr const char* NameIn(const NameTable<E, N>& table, E value, const char* unknown) {
  for (const auto& [v, name] : table) {
    if (v == value) return name;
  }
  return unknown;
}

// The value named `name` in `table`, or none.
template <typename E, size_t N>
constexpr std::optional<E> ValueIn(const NameTable<E, N>& table, std::string_view name) {
  for (const auto& [v, n] : table) {
    if (name == n) return v;
  }
  return std::nullopt;
}

}  // namespace dstk
