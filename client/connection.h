// Connection: one gRPC channel to a proxflow-server plus the per-call policy
// every typed client shares (deadline of unary calls, bearer token, retries
// with backoff). Torch-free.
//
// Thread-safe: a Connection may be shared by any number of clients and threads
// (gRPC channels are thread-safe; the jitter generator is locked).
#ifndef PROXFLOW_CLIENT_CONNECTION_H_
#define PROXFLOW_CLIENT_CONNECTION_H_

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "client/retry.h"

namespace proxflow::client {

// Transport security. Off: plaintext (the server's default on loopback).
struct TlsOptions {
  bool enabled = false;
  std::string ca_file;    // PEM roots; empty = the system's roots
  std::string cert_file;  // PEM client certificate (mTLS), with key_file
  std::string key_file;
  std::string
      server_name;  // overrides the name checked against the certificate
};

struct ClientOptions {
  std::string target = "127.0.0.1:50051";  // host:port or any gRPC target URI
  std::string token;  // bearer token sent as "authorization: Bearer <token>"
  TlsOptions tls;
  // Deadline of each unary call attempt (streams have none; they end on their
  // own).
  absl::Duration rpc_timeout = absl::Seconds(30);
  RetryPolicy retry;
  // Seeds the backoff jitter (tests); unset draws a random seed.
  std::optional<uint64_t> jitter_seed;
  // How to wait between attempts; tests substitute one that records the delays.
  std::function<void(absl::Duration)> sleep = [](absl::Duration d) {
    absl::SleepFor(d);
  };
  // The clock of time-budgeted retries (watches); tests substitute one that
  // the substituted sleep advances.
  std::function<absl::Time()> now = [] { return absl::Now(); };
};

class Connection {
 public:
  // INVALID_ARGUMENT when an option is unusable (empty target, a TLS file that
  // cannot be read, a certificate without its key); does not contact the
  // server.
  static absl::StatusOr<std::unique_ptr<Connection>> Open(
      ClientOptions options);
  // Over an existing channel (in-process servers in tests).
  Connection(std::shared_ptr<grpc::Channel> channel, ClientOptions options);

  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }
  const ClientOptions& options() const { return options_; }

  // Adds the token and, for unary calls, the deadline.
  void PrepareUnary(grpc::ClientContext* context) const;
  void PrepareStream(grpc::ClientContext* context) const;

  // The one retry rule of every call: counts one more consecutive failure in
  // `failures` (callers reset it to 0 when a stream made progress) and, when
  // `status` IsRetryable and fewer than retry.max_attempts attempts failed in a
  // row, waits the backoff and returns true; false means give up with `status`.
  bool RetryAfter(const absl::Status& status, int& failures) const;

  // The retry rule of long-lived streams (watches), by time instead of by
  // attempts: counts one more consecutive failure in `failures` and, when
  // `status` IsRetryable and the backoff ends by `give_up_at`, returns the
  // backoff without waiting (the caller reports it, then Wait()s); nullopt
  // means give up with `status`.
  std::optional<absl::Duration> RetryDelayWithin(const absl::Status& status,
                                                 int& failures,
                                                 absl::Time give_up_at) const;
  void Wait(absl::Duration delay) const { options_.sleep(delay); }
  absl::Time Now() const { return options_.now(); }

 private:
  std::shared_ptr<grpc::Channel> channel_;
  ClientOptions options_;
  mutable absl::Mutex mu_;
  mutable absl::BitGen jitter_ ABSL_GUARDED_BY(mu_);  // seeded per jitter_seed
};

}  // namespace proxflow::client

#endif  // PROXFLOW_CLIENT_CONNECTION_H_
