#include "core/base/sha256.h"

#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace proxflow {
namespace {

// OpenSSL failures of a built-in digest (allocation, a broken library) are
// invariant violations, not request errors.
void Require(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "proxflow: OpenSSL SHA-256 failed in %s\n", what);
  std::abort();
}

}  // namespace

struct Sha256::State {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~State() { EVP_MD_CTX_free(ctx); }
};

Sha256::Sha256() : state_(std::make_unique<State>()) {
  // Allocation or initialisation failure of a built-in digest is not
  // recoverable request data: an invariant.
  Require(state_->ctx != nullptr, "EVP_MD_CTX_new");
  Require(EVP_DigestInit_ex(state_->ctx, EVP_sha256(), nullptr) == 1,
          "EVP_DigestInit_ex");
}

Sha256::~Sha256() = default;

void Sha256::Update(absl::string_view bytes) {
  Require(EVP_DigestUpdate(state_->ctx, bytes.data(), bytes.size()) == 1,
          "EVP_DigestUpdate");
}

std::string Sha256::HexDigest() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  Require(EVP_DigestFinal_ex(state_->ctx, digest, &length) == 1,
          "EVP_DigestFinal_ex");
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), length));
}

std::string Sha256Hex(absl::string_view bytes) {
  Sha256 sha;
  sha.Update(bytes);
  return sha.HexDigest();
}

absl::StatusOr<std::string> Sha256File(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  Sha256 sha;
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    sha.Update(absl::string_view(buffer.data(), in.gcount()));
  }
  if (in.bad()) return absl::DataLossError(absl::StrCat(path, ": read failed"));
  return sha.HexDigest();
}

bool IsSha256Hex(absl::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace proxflow
