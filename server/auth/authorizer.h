// Bearer-token authentication and role authorization for every RPC (issue
// "security"). Tokens live in a file of their SHA-256 hashes, never in clear:
//
//   # sha256 of the token            name   role
//   sha256:9f86d081884c7d65...c15d0  alice  admin
//   sha256:60303ae22b998861...ed92d  ci     trainer
//
// Roles are ordered: sampler (sample, read the registry) < trainer (also
// submit/cancel/watch jobs, upload datasets and checkpoints, pin/tag) < admin
// (also delete, set aliases, run GC). Without a tokens file the server is open
// (every call allowed), which main() announces loudly off loopback.
//
// Thread-safe: Check() runs on gRPC threads while Reload() (SIGHUP) swaps the
// table.
#ifndef PROXFLOW_SERVER_AUTH_AUTHORIZER_H_
#define PROXFLOW_SERVER_AUTH_AUTHORIZER_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace proxflow::server {

enum class Role { kSampler = 1, kTrainer = 2, kAdmin = 3 };
const char* RoleName(Role role);

struct TokenEntry {
  std::string sha256;  // 64 lowercase hex digits
  std::string name;
  Role role = Role::kSampler;
};

// Parses a tokens file's text. INVALID_ARGUMENT names the line and the
// problem (not "sha256:<64 hex>", unknown role, duplicate hash or name).
// `path` only labels the messages.
absl::StatusOr<std::vector<TokenEntry>> ParseTokens(absl::string_view text,
                                                    absl::string_view path);

class Authorizer {
 public:
  // An open server: every call allowed.
  Authorizer() = default;
  // Reads `path` (ParseTokens); an empty file is an error (it would lock
  // everyone out).
  static absl::StatusOr<std::unique_ptr<Authorizer>> FromFile(
      const std::string& path);

  // Re-reads the file. On error the previous tokens stay in force and the
  // error is returned. No-op OK for an open server.
  absl::Status Reload();

  // OK when the call's `authorization: Bearer <token>` names a token whose
  // role is at least `required`; UNAUTHENTICATED without a (known) token,
  // PERMISSION_DENIED naming the caller, its role and the role needed.
  // Compares against every entry in constant time per entry.
  absl::Status Check(const grpc::ServerContextBase& context,
                     Role required) const;
  absl::Status CheckToken(absl::string_view authorization_header,
                          Role required) const;

  bool enabled() const { return !path_.empty(); }
  size_t token_count() const;

 private:
  explicit Authorizer(std::string path) : path_(std::move(path)) {}
  const std::string path_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const std::vector<TokenEntry>> tokens_ ABSL_GUARDED_BY(mu_);
};

}  // namespace proxflow::server

#endif  // PROXFLOW_SERVER_AUTH_AUTHORIZER_H_
