// Signed functions: who may have a worker run a command.
//
// Anything on a queue is run by the workers that claim from it, so a key allowed to push (or a
// unit that forges a function record) could run commands on every worker. A producer therefore
// signs each function with an Ed25519 key (libsodium's crypto_sign), and a worker given a trust
// list (`dsrun --trust FILE`) runs only functions signed by a key on it; anything else goes to
// QUEUE.failed with the reason and is never started.
//
// What is signed: the queue's name and the function's command, inputs, output, limits (timeout
// and attempts), producer, push time and the signer's public key, in a fixed encoding
// (SignedBytes). Not signed: `attempt` and `reason`, which dsrun itself changes when it re-queues
// or dead-letters a function, so a re-queued function stays valid. Binding the queue means a
// function cannot be moved to another queue; a unit can still replay one (store a copy under a
// new key of the same queue), which runs the same command again: see dstk-security(7).
//
// Key files hold hex: FILE the 64-byte secret key (0600), FILE.pub the 32-byte public key; a
// trust file lists public keys, one a line ('#' comment lines).
#pragma once

#include <set>
#include <string>

#include "claim/function.h"
#include "util/status.h"

namespace dstk::claim {

struct SigningKey {
  std::string secret;      // 64 bytes (crypto_sign_SECRETKEYBYTES)
  std::string public_hex;  // 64 hex digits
};

Result<SigningKey> GenerateSigningKey();
// Writes FILE and FILE.pub; neither may exist.
Status WriteSigningKey(const std::string& path, const SigningKey& key);
Result<SigningKey> ReadSigningKey(const std::string& path);
// The public keys of a trust file. kInvalidArgument names a line that is not one.
Result<std::set<std::string>> ReadTrustFile(const std::string& path);

// The bytes a signature covers.
std::string SignedBytes(const std::string& queue, const Function& f);
// Sets f.signer and f.signature.
Status SignFunction(Function& f, const std::string& queue, const SigningKey& key);
// Ok when `f` carries a valid signature, for `queue`, by a key in `trusted`; else
// kInvalidArgument saying which: unsigned, signed by an unknown key, or a signature that does
// not match (altered after signing, or forged).
Status VerifyFunction(const Function& f, const std::string& queue,
                      const std::set<std::string>& trusted);

}  // namespace dstk::claim
