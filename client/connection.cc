#include "client/connection.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <chrono>
#include <cstdint>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/file_util.h"
#include "core/base/status_macros.h"

namespace proxflow::client {
namespace {

constexpr size_t kMaxPemBytes = size_t{1} << 20;

absl::StatusOr<std::string> ReadPem(const std::string& path, const char* flag) {
  if (path.empty()) return std::string();
  absl::StatusOr<std::string> pem = ReadFile(path, kMaxPemBytes);
  if (!pem.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        flag, " \"", path, "\" cannot be read: ", pem.status().message()));
  }
  return pem;
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> Credentials(
    const TlsOptions& tls) {
  if (!tls.enabled) return grpc::InsecureChannelCredentials();
  if (tls.cert_file.empty() != tls.key_file.empty()) {
    return absl::InvalidArgumentError(
        "tls.cert_file and tls.key_file go together (mTLS needs both)");
  }
  grpc::SslCredentialsOptions ssl;
  PROXFLOW_ASSIGN_OR_RETURN(ssl.pem_root_certs,
                            ReadPem(tls.ca_file, "tls.ca_file"));
  PROXFLOW_ASSIGN_OR_RETURN(ssl.pem_cert_chain,
                            ReadPem(tls.cert_file, "tls.cert_file"));
  PROXFLOW_ASSIGN_OR_RETURN(ssl.pem_private_key,
                            ReadPem(tls.key_file, "tls.key_file"));
  return grpc::SslCredentials(ssl);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Connection>> Connection::Open(
    ClientOptions options) {
  if (options.target.empty())
    return absl::InvalidArgumentError("server address must not be empty");
  if (options.rpc_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("rpc timeout must be > 0, got ",
                     absl::FormatDuration(options.rpc_timeout)));
  }
  PROXFLOW_ASSIGN_OR_RETURN(auto credentials, Credentials(options.tls));
  grpc::ChannelArguments args;
  if (!options.tls.server_name.empty())
    args.SetSslTargetNameOverride(options.tls.server_name);
  auto channel = grpc::CreateCustomChannel(options.target, credentials, args);
  return std::make_unique<Connection>(std::move(channel), std::move(options));
}

Connection::Connection(std::shared_ptr<grpc::Channel> channel,
                       ClientOptions options)
    : channel_(std::move(channel)), options_(std::move(options)) {
  if (options_.jitter_seed.has_value()) {
    std::seed_seq seed{static_cast<uint32_t>(*options_.jitter_seed),
                       static_cast<uint32_t>(*options_.jitter_seed >> 32)};
    absl::MutexLock lock(&mu_);
    jitter_ = absl::BitGen(seed);
  }
}

void Connection::PrepareStream(grpc::ClientContext* context) const {
  if (!options_.token.empty())
    context->AddMetadata("authorization", "Bearer " + options_.token);
}

void Connection::PrepareUnary(grpc::ClientContext* context) const {
  PrepareStream(context);
  context->set_deadline(absl::ToChronoTime(absl::Now() + options_.rpc_timeout));
}

bool Connection::RetryAfter(const absl::Status& status, int& failures) const {
  ++failures;
  if (!IsRetryable(status) || failures >= options_.retry.max_attempts)
    return false;
  absl::Duration delay;
  {
    absl::MutexLock lock(&mu_);
    delay = RetryBackoff(options_.retry, failures, status, jitter_);
  }
  options_.sleep(delay);
  return true;
}

std::optional<absl::Duration> Connection::RetryDelayWithin(
    const absl::Status& status, int& failures, absl::Time give_up_at) const {
  ++failures;
  if (!IsRetryable(status)) return std::nullopt;
  absl::Duration delay;
  {
    absl::MutexLock lock(&mu_);
    delay = RetryBackoff(options_.retry, failures, status, jitter_);
  }
  if (options_.now() + delay > give_up_at) return std::nullopt;
  return delay;
}

}  // namespace proxflow::client
