#include "net/keys.h"

#include <fcntl.h>
#include <unistd.h>
#include <zmq.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "util/fd_io.h"
#include "util/text.h"

namespace dstk::net {

bool IsZ85Key(const std::string& z85) {
  if (z85.size() != 40) return false;
  uint8_t raw[32];
  return zmq_z85_decode(raw, z85.c_str()) != nullptr;
}

Result<KeyPair> GenerateKeyPair() {
  char pub[41], sec[41];
  if (zmq_curve_keypair(pub, sec) != 0) {
    return Status::IoError(std::string("cannot make a CurveZMQ key pair: ") +
                           zmq_strerror(zmq_errno()));
  }
  return KeyPair{pub, sec};
}

Status WriteKeyPair(const std::string& path, const KeyPair& keys) {
  DSTK_RETURN_IF_ERROR(WriteNewFile(path, keys.secret_z85 + "\n", 0600));
  return WriteNewFile(path + ".pub", keys.public_z85 + "\n", 0644);
}

Result<KeyPair> ReadSecretKey(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return Status::Invalid("cannot read the key file " + path);
  KeyPair k;
  k.secret_z85 = Trim(line);
  if (!IsZ85Key(k.secret_z85))
    return Status::Invalid(path + " does not hold a Z85 CurveZMQ secret key");
  char pub[41];
  if (zmq_curve_public(pub, k.secret_z85.c_str()) != 0)
    return Status::Invalid(path + ": bad secret key");
  k.public_z85 = pub;
  return k;
}

}  // namespace dstk::net
