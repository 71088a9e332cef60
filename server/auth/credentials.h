// The gRPC listener's transport credentials from PEM files (issue "security").
#ifndef PROXFLOW_SERVER_AUTH_CREDENTIALS_H_
#define PROXFLOW_SERVER_AUTH_CREDENTIALS_H_

#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace proxflow::server {

struct TlsFiles {
  std::string cert;       // PEM certificate chain; empty: plaintext
  std::string key;        // PEM private key of that certificate
  std::string client_ca;  // PEM roots client certificates must chain to
};

// Plaintext credentials when `files.cert` is empty; TLS otherwise, requiring
// and verifying client certificates when `files.client_ca` is set.
// INVALID_ARGUMENT names the flag of a missing or unreadable file, or a key
// without a certificate.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TlsFiles& files);

}  // namespace proxflow::server

#endif  // PROXFLOW_SERVER_AUTH_CREDENTIALS_H_
