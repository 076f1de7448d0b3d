#include "claim/signing.h"

#include <sodium.h>

#include <fstream>

#include "util/fd_io.h"
#include "util/text.h"
#include "wire/msgpack_fields.h"

namespace dstk::claim {
namespace {

std::string ToHex(const std::string& bytes) {
  std::string hex(bytes.size() * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                 bytes.size());
  hex.pop_back();
  return hex;
}

// The bytes `hex` spells, when it spells exactly `size` of them.
Result<std::string> FromHex(const std::string& hex, size_t size) {
  std::string out(size, '\0');
  size_t len = 0;
  if (hex.size() != 2 * size ||
      sodium_hex2bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), hex.data(),
                     hex.size(), nullptr, &len, nullptr) != 0 ||
      len != size) {
    return Status::Invalid("not " + std::to_string(size) + " bytes of hex");
  }
  return out;
}

Status Ready() {
  return sodium_init() < 0 ? Status::IoError("libsodium could not start") : Status::Ok();
}

}  // namespace

Result<SigningKey> GenerateSigningKey() {
  DSTK_RETURN_IF_ERROR(Ready());
  unsigned char pk[crypto_sign_PUBLICKEYBYTES];
  unsigned char sk[crypto_sign_SECRETKEYBYTES];
  crypto_sign_keypair(pk, sk);
  SigningKey k;
  k.secret.assign(reinterpret_cast<const char*>(sk), sizeof sk);
  k.public_hex = ToHex(std::string(reinterpret_cast<const char*>(pk), sizeof pk));
  sodium_memzero(sk, sizeof sk);
  return k;
}

Status WriteSigningKey(const std::string& path, const SigningKey& key) {
  DSTK_RETURN_IF_ERROR(WriteNewFile(path, ToHex(key.secret) + "\n", 0600));
  return WriteNewFile(path + ".pub", key.public_hex + "\n", 0644);
}

Result<SigningKey> ReadSigningKey(const std::string& path) {
  DSTK_RETURN_IF_ERROR(Ready());
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return Status::Invalid("cannot read the signing key " + path);
  auto secret = FromHex(Trim(line), crypto_sign_SECRETKEYBYTES);
  if (!secret.ok())
    return Status::Invalid(path + " does not hold an Ed25519 secret key (dsenc keygen --sign)");
  unsigned char pk[crypto_sign_PUBLICKEYBYTES];
  crypto_sign_ed25519_sk_to_pk(pk, reinterpret_cast<const unsigned char*>(secret->data()));
  SigningKey k;
  k.secret = std::move(secret).value();
  k.public_hex = ToHex(std::string(reinterpret_cast<const char*>(pk), sizeof pk));
  return k;
}

Result<std::set<std::string>> ReadTrustFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::Invalid("cannot read the trust file " + path);
  std::set<std::string> keys;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    line = Trim(line);
    if (line.empty() || line[0] == '#') continue;
    if (!FromHex(line, crypto_sign_PUBLICKEYBYTES).ok())
      return Status::Invalid(path + ":" + std::to_string(n) +
                             ": not an Ed25519 public key (64 hex digits, as FILE.pub of "
                             "dsenc keygen --sign holds)");
    keys.insert(line);
  }
  return keys;
}

std::string SignedBytes(const std::string& queue, const Function& f) {
  msgpack::sbuffer buf;
  wire::mp::Packer p(buf);
  p.pack_array(10);
  p.pack("dstk-function-v1");
  p.pack(queue);
  p.pack(f.argv);
  p.pack(f.inputs);
  p.pack(f.output);
  p.pack(f.timeout_s);
  p.pack(f.attempts);
  p.pack(f.producer);
  p.pack(f.pushed_us);
  p.pack(f.signer);
  return std::string(buf.data(), buf.size());
}

Status SignFunction(Function& f, const std::string& queue, const SigningKey& key) {
  DSTK_RETURN_IF_ERROR(Ready());
  f.signer = key.public_hex;
  const std::string message = SignedBytes(queue, f);
  unsigned char sig[crypto_sign_BYTES];
  crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char*>(message.data()),
                       message.size(), reinterpret_cast<const unsigned char*>(key.secret.data()));
  f.signature = ToHex(std::string(reinterpret_cast<const char*>(sig), sizeof sig));
  return Status::Ok();
}

Status VerifyFunction(const Function& f, const std::string& queue,
                      const std::set<std::string>& trusted) {
  DSTK_RETURN_IF_ERROR(Ready());
  if (f.signer.empty() || f.signature.empty()) return Status::Invalid("unsigned function");
  if (trusted.count(f.signer) == 0)
    return Status::Invalid("signed by a key not in the trust file (" + f.signer + ")");
  auto pk = FromHex(f.signer, crypto_sign_PUBLICKEYBYTES);
  auto sig = FromHex(f.signature, crypto_sign_BYTES);
  const std::string message = SignedBytes(queue, f);
  if (!pk.ok() || !sig.ok() ||
      crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(sig->data()),
                                  reinterpret_cast<const unsigned char*>(message.data()),
                                  message.size(),
                                  reinterpret_cast<const unsigned char*>(pk->data())) != 0) {
    return Status::Invalid("bad signature: the function was altered after signing, or forged");
  }
  return Status::Ok();
}

}  // namespace dstk::claim
