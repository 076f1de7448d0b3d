// CurveZMQ keys: generating a key pair and reading key files. The allow-list a unit checks,
// with each key's rights, is read by node/allow_list.h.
//
// A key file holds one Z85-encoded key (40 characters) on its first line; `dsenc keygen FILE`
// writes the secret key to FILE (mode 0600) and the public key to FILE.pub. A node list line
// may carry the unit's public key after its endpoint: "tcp://10.0.0.7:7100 <unit public key>".
#pragma once

#include <string>

#include "util/status.h"

namespace dstk::net {

struct KeyPair {
  std::string public_z85;
  std::string secret_z85;
};

Result<KeyPair> GenerateKeyPair();
// Writes `path` (secret, 0600) and `path`.pub (public); refuses to overwrite.
Status WriteKeyPair(const std::string& path, const KeyPair& keys);
// Reads a secret key file and derives its public key.
Result<KeyPair> ReadSecretKey(const std::string& path);
// True when `z85` is a well-formed 40-character Z85 key.
bool IsZ85Key(const std::string& z85);

}  // namespace dstk::net
