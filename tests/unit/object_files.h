// Objects to and from memory files, for the tests of the client layer against served units
// (served_units.h): the bytes to put as a file, and an object read back as bytes.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>

#include "client/find.h"
#include "client/object_io.h"
#include "util/unique_fd.h"

namespace dstk::test {

// A memory file holding `bytes`, at offset 0.
inline UniqueFd FileOf(const std::string& bytes) {
  UniqueFd fd(memfd_create("dstk-test-object", 0));
  REQUIRE(fd.get() >= 0);
  REQUIRE(write(fd.get(), bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
  REQUIRE(lseek(fd.get(), 0, SEEK_SET) == 0);
  return fd;
}

// Object `name` as read back through the network (placement and all), which must succeed; its
// revision in `rev` when given.
inline std::string ReadBack(net::Cluster& network, const std::string& name,
                            const client::Thresholds& t, uint64_t* rev = nullptr) {
  UniqueFd fd(memfd_create("dstk-test-read", 0));
  REQUIRE(fd.get() >= 0);
  client::GetOptions g;
  g.t = t;
  auto m = client::ReadObject(network, name, fd.get(), g);
  INFO((m.ok() ? "" : m.status().message()));
  REQUIRE(m.ok());
  if (rev != nullptr) *rev = m->rev;
  std::string out(m->size, '\0');
  REQUIRE(pread(fd.get(), out.data(), out.size(), 0) == static_cast<ssize_t>(out.size()));
  return out;
}

}  // namespace dstk::test
