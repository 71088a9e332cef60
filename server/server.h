// Server: assembles proxflow-server: storage under the data directory, the
// checkpoint registry and the job manager (with crash recovery), the gRPC
// services, health and reflection. Used by main.cc and by in-process tests.
//
// Start-up order makes readiness honest: the gRPC port opens only after the
// database is open and recovery is done. Thread-safe.
#ifndef PROXFLOW_SERVER_SERVER_H_
#define PROXFLOW_SERVER_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/builtin_datasets.h"
#include "server/checkpoint_registry_service.h"
#include "server/dataset_service.h"
#include "server/job_limits.h"
#include "server/job_manager.h"
#include "server/metrics/job_metrics.h"
#include "server/metrics/metrics_endpoint.h"
#include "server/metrics/rpc_metrics.h"
#include "server/metrics/sampling_metrics.h"
#include "server/metrics/storage_metrics.h"
#include "server/registry/registry.h"
#include "server/sampling/sample_engine.h"
#include "server/sampling/sample_plan.h"
#include "server/sampling/sampling_backend.h"
#include "server/sampling_service.h"
#include "server/storage/blob_store.h"
#include "server/storage/database.h"
#include "server/storage/dataset_store.h"
#include "server/storage/job_store.h"
#include "server/storage/registry_store.h"
#include "server/training_backend.h"
#include "server/training_service.h"

namespace proxflow::server {

struct ServerOptions {
  std::string listen = "127.0.0.1:50051";  // host:port; port 0 picks one
  std::string data_dir = "./proxflow-data";
  // The operator's dataset catalog (server/builtin_datasets.h): <root>/mnist
  // serves DATASET_KIND_MNIST jobs. Empty offers no built-in dataset.
  std::string datasets_root;
  int max_concurrent_jobs = 1;
  int queue_limit = 64;
  std::vector<std::string> devices = {"cpu"};
  absl::Duration heartbeat_interval = absl::Seconds(10);
  absl::Duration progress_min_interval = absl::Milliseconds(200);
  int64_t max_dataset_bytes = int64_t{1} << 30;
  int64_t max_checkpoint_bytes = int64_t{1} << 30;  // largest upload
  JobLimits job_limits;  // what one training job may ask for
  // HTTP/2 streams one client connection may have open at once; further
  // streams wait in the client's transport (gRPC's flow control).
  int max_concurrent_streams = 128;
  // Sampling: engine settings (devices come from `devices`) and request limits.
  SampleEngineOptions sampling;
  SamplingLimits sample_limits;
  // Prometheus text on http://metrics_listen/metrics; empty serves none (the
  // metrics are still kept).
  std::string metrics_listen;
  // Security. TLS when tls_cert_file is set (PEM certificate chain and key);
  // mutual TLS when tls_client_ca_file is also set (clients must present a
  // certificate it signed). Bearer tokens with roles when auth_tokens_file is
  // set (server/auth/authorizer.h). All empty: plaintext and open.
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_client_ca_file;
  std::string auth_tokens_file;
};

class Server {
 public:
  // Locks the data directory (FAILED_PRECONDITION when another server holds
  // it), opens storage, recovers jobs and starts serving. The backends must
  // outlive the server.
  static absl::StatusOr<std::unique_ptr<Server>> Start(
      const ServerOptions& options, TrainingBackend* backend,
      SamplingBackend* sampling);

  // Shutdown(absl::Seconds(5)) unless already shut down.
  ~Server();

  // The bound port (the real one when the listen address asked for 0).
  int port() const { return port_; }
  JobManager& jobs() { return *jobs_; }
  Registry& registry() { return *registry_; }
  SampleEngine& sampler() { return *sampler_; }
  prometheus::Registry& metrics() { return *metrics_; }
  // Re-reads --auth_tokens_file (SIGHUP); on error the old tokens stay.
  absl::Status ReloadTokens() { return auth_->Reload(); }
  bool authenticates() const { return auth_->enabled(); }
  // What --datasets_root offers (for the startup log).
  const BuiltinDatasets& builtin_datasets() const { return builtin_datasets_; }
  // "http://host:port/metrics", or "" when ServerOptions.metrics_listen is
  // empty.
  std::string metrics_url() const {
    return metrics_endpoint_ == nullptr ? "" : metrics_endpoint_->url();
  }

  // Health NOT_SERVING; gRPC stops listening and sends GOAWAY on every
  // connection (no new call is accepted); then watch streams end UNAVAILABLE
  // "reconnect with after_sequence N" (behind the GOAWAY, so a reconnect is
  // refused UNAVAILABLE, never CANCELLED), sample requests in progress may
  // finish within `grace`, gRPC stops (calls still running after `grace` are
  // cancelled), then running jobs checkpoint and stop so that the next start
  // resumes them. Idempotent.
  void Shutdown(absl::Duration grace);

 private:
  Server() = default;
  // Sets the scrape-time gauges (jobs by state, queue length) before a scrape.
  void RefreshGauges();

  int lock_fd_ = -1;
  BuiltinDatasets builtin_datasets_;
  // Declared first, destroyed last: components record into them until the end.
  std::shared_ptr<prometheus::Registry> metrics_;
  std::unique_ptr<JobMetrics> job_metrics_;
  std::unique_ptr<SamplingMetrics> sampling_metrics_;
  std::unique_ptr<StorageMetrics> storage_metrics_;
  std::unique_ptr<ProcessMetrics> process_metrics_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<JobStore> job_store_;
  std::unique_ptr<DatasetStore> dataset_store_;
  std::unique_ptr<BlobStore> blob_store_;
  std::unique_ptr<RegistryStore> registry_store_;
  std::unique_ptr<Registry> registry_;
  std::unique_ptr<JobManager> jobs_;
  std::unique_ptr<Authorizer> auth_;  // before the services that use it
  std::unique_ptr<TrainingServiceImpl> training_service_;
  std::unique_ptr<DatasetServiceImpl> dataset_service_;
  std::unique_ptr<CheckpointRegistryService> registry_service_;
  std::unique_ptr<SampleEngine> sampler_;
  std::unique_ptr<SamplingService> sampling_service_;
  std::unique_ptr<RpcMetrics> rpc_metrics_;
  std::unique_ptr<MetricsEndpoint> metrics_endpoint_;
  std::unique_ptr<grpc::Server> grpc_server_;
  int port_ = 0;
  bool shut_down_ = false;
};

}  // namespace proxflow::server

#endif  // PROXFLOW_SERVER_SERVER_H_
