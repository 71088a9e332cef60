#include "server/server.h"

#include <fcntl.h>
#include <grpc/grpc.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <prometheus/gauge.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/base/status_macros.h"
#include "server/auth/credentials.h"
#include "server/storage/schema.h"

namespace proxflow::server {
namespace {

constexpr const char* kServiceNames[] = {
    "", "proxflow.v1.TrainingService", "proxflow.v1.DatasetService",
    "proxflow.v1.CheckpointRegistry", "proxflow.v1.SamplingService"};

// Holds an exclusive lock on <data_dir>/LOCK for the life of the process, so
// two servers never share (and corrupt) one data directory.
absl::StatusOr<int> LockDataDir(const std::string& data_dir) {
  const std::string path = (std::filesystem::path(data_dir) / "LOCK").string();
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot open ", path, " to lock --data_dir"));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return absl::FailedPreconditionError(absl::StrCat(
        "--data_dir ", data_dir, " is in use by another proxflow-server"));
  }
  return fd;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::Start(
    const ServerOptions& options, TrainingBackend* backend,
    SamplingBackend* sampling) {
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot create --data_dir ", options.data_dir, ": ", ec.message()));
  }
  std::unique_ptr<Server> server(new Server());
  // Security settings are checked before any storage is touched.
  PROXFLOW_ASSIGN_OR_RETURN(
      std::shared_ptr<grpc::ServerCredentials> credentials,
      MakeServerCredentials({options.tls_cert_file, options.tls_key_file,
                             options.tls_client_ca_file}));
  if (options.auth_tokens_file.empty()) {
    server->auth_ = std::make_unique<Authorizer>();
  } else {
    PROXFLOW_ASSIGN_OR_RETURN(server->auth_,
                              Authorizer::FromFile(options.auth_tokens_file));
  }
  PROXFLOW_ASSIGN_OR_RETURN(server->builtin_datasets_,
                            BuiltinDatasets::Open(options.datasets_root));
  PROXFLOW_ASSIGN_OR_RETURN(server->lock_fd_, LockDataDir(options.data_dir));
  PROXFLOW_ASSIGN_OR_RETURN(
      server->db_,
      Database::Open(
          (std::filesystem::path(options.data_dir) / "proxflow.db").string(),
          kSchema));
  server->job_store_ = std::make_unique<JobStore>(server->db_.get());
  PROXFLOW_ASSIGN_OR_RETURN(
      server->dataset_store_,
      DatasetStore::Create(server->db_.get(), options.data_dir,
                           options.max_dataset_bytes));
  PROXFLOW_ASSIGN_OR_RETURN(
      server->blob_store_,
      CreateFileBlobStore(
          (std::filesystem::path(options.data_dir) / "blobs").string()));
  server->registry_store_ = CreateSqliteRegistryStore(server->db_.get());
  RegistryOptions ro;
  ro.max_upload_bytes = options.max_checkpoint_bytes;
  ro.proxflow_version = PROXFLOW_VERSION;
  ro.libtorch_version = backend->LibTorchVersion();
  PROXFLOW_ASSIGN_OR_RETURN(
      server->registry_, Registry::Create(ro, server->registry_store_.get(),
                                          server->blob_store_.get(),
                                          [backend](absl::string_view bytes) {
                                            return backend->Inspect(bytes);
                                          }));
  server->metrics_ = std::make_shared<prometheus::Registry>();
  server->job_metrics_ =
      std::make_unique<JobMetrics>(*server->metrics_, options.devices);
  server->sampling_metrics_ =
      std::make_unique<SamplingMetrics>(*server->metrics_);
  server->storage_metrics_ =
      std::make_unique<StorageMetrics>(*server->metrics_);
  // Integrity failures found from here on (job recovery included) count.
  StorageMetrics* storage = server->storage_metrics_.get();
  server->registry_->SetIntegrityFailureHook(
      [storage] { storage->OnIntegrityFailure(); });
  server->process_metrics_ =
      std::make_unique<ProcessMetrics>(*server->metrics_);
  JobManagerOptions jm;
  jm.metrics = server->job_metrics_.get();
  jm.max_concurrent_jobs = options.max_concurrent_jobs;
  jm.queue_limit = options.queue_limit;
  jm.limits = options.job_limits;
  jm.devices = options.devices;
  jm.heartbeat_interval = options.heartbeat_interval;
  jm.progress_min_interval = options.progress_min_interval;
  jm.mnist_dir = server->builtin_datasets_.mnist_dir();
  jm.classifier_cache_dir =
      (std::filesystem::path(options.data_dir) / "cache" / "classifiers")
          .string();
  PROXFLOW_ASSIGN_OR_RETURN(
      server->jobs_, JobManager::Create(jm, server->job_store_.get(),
                                        server->dataset_store_.get(),
                                        server->registry_.get(), backend));
  const Authorizer* auth = server->auth_.get();
  server->training_service_ =
      std::make_unique<TrainingServiceImpl>(server->jobs_.get(), auth);
  server->dataset_service_ =
      std::make_unique<DatasetServiceImpl>(server->dataset_store_.get(), auth);
  server->registry_service_ = std::make_unique<CheckpointRegistryService>(
      server->registry_.get(), auth);
  SampleEngineOptions so = options.sampling;
  so.devices = options.devices;
  so.metrics = server->sampling_metrics_.get();
  Registry* registry = server->registry_.get();
  PROXFLOW_ASSIGN_OR_RETURN(
      server->sampler_,
      SampleEngine::Create(so, sampling,
                           [registry](const proxflow::v1::Checkpoint& c) {
                             return registry->ReadVerified(c);
                           }));
  server->sampling_service_ = std::make_unique<SamplingService>(
      registry, server->sampler_.get(), options.sample_limits, auth);

  prometheus::BuildGauge()
      .Name("proxflow_build_info")
      .Help("Always 1; the labels say which build serves")
      .Register(*server->metrics_)
      .Add({{"version", PROXFLOW_VERSION},
            {"libtorch_version", backend->LibTorchVersion()},
            {"devices", absl::StrJoin(options.devices, ",")}})
      .Set(1);
  std::vector<std::string> methods = ServiceMethods(std::vector<std::string>(
      std::begin(kServiceNames) + 1, std::end(kServiceNames)));
  for (const char* m :
       {"/grpc.health.v1.Health/Check", "/grpc.health.v1.Health/Watch",
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"})
    methods.push_back(m);
  server->rpc_metrics_ =
      std::make_unique<RpcMetrics>(*server->metrics_, methods);
  if (!options.metrics_listen.empty()) {
    auto endpoint =
        MetricsEndpoint::Start(options.metrics_listen, server->metrics_,
                               [s = server.get()] { s->RefreshGauges(); });
    if (!endpoint.ok()) {
      server->jobs_->Shutdown();
      return endpoint.status();
    }
    server->metrics_endpoint_ = *std::move(endpoint);
  }

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      interceptors;
  interceptors.push_back(server->rpc_metrics_->InterceptorFactory());
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  builder.AddListeningPort(options.listen, credentials, &server->port_);
  // Messages: gRPC's 4 MiB default, stated (uploads arrive in <= 1 MiB chunks;
  // a larger message is refused RESOURCE_EXHAUSTED by gRPC, naming the size).
  builder.SetMaxReceiveMessageSize(4 << 20);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             options.max_concurrent_streams);
  builder.RegisterService(server->training_service_.get());
  builder.RegisterService(server->dataset_service_.get());
  builder.RegisterService(server->registry_service_.get());
  builder.RegisterService(server->sampling_service_.get());
  server->grpc_server_ = builder.BuildAndStart();
  if (server->grpc_server_ == nullptr || server->port_ == 0) {
    server->jobs_->Shutdown();
    return absl::UnavailableError(
        absl::StrCat("cannot listen on --listen ", options.listen));
  }
  for (const char* name : kServiceNames)
    server->grpc_server_->GetHealthCheckService()->SetServingStatus(name, true);
  return server;
}

void Server::RefreshGauges() {
  absl::StatusOr<JobManager::JobCounts> counts = jobs_->Counts();
  if (counts.ok()) job_metrics_->SetJobCounts(counts->by_state, counts->queued);
  process_metrics_->Refresh();
  int64_t registry_bytes = 0, registry_versions = 0, dataset_bytes = 0,
          datasets = 0;
  proxflow::v1::ListModelsRequest models_request;
  models_request.set_page_size(1000);
  while (true) {
    absl::StatusOr<proxflow::v1::ListModelsResponse> page =
        registry_->ListModels(models_request);
    if (!page.ok()) break;
    for (const auto& m : page->models()) {
      registry_bytes += m.ready_bytes();
      registry_versions += m.ready_versions();
    }
    if (page->next_page_token().empty()) break;
    models_request.set_page_token(page->next_page_token());
  }
  std::string after;
  while (true) {
    absl::StatusOr<DatasetStore::Page> page = dataset_store_->List(after, 1000);
    if (!page.ok()) break;
    for (const auto& d : page->datasets) {
      dataset_bytes += d.size_bytes();
      ++datasets;
    }
    if (page->next_after.empty()) break;
    after = page->next_after;
  }
  storage_metrics_->SetStored(registry_bytes, registry_versions, dataset_bytes,
                              datasets);
  const SampleEngine::Counters sampling = sampler_->counters();
  sampling_metrics_->SetState(sampling.queued, sampling.active,
                              sampler_->LoadedModels().cache_bytes());
}

Server::~Server() { Shutdown(absl::Seconds(5)); }

void Server::Shutdown(absl::Duration grace) {
  if (shut_down_) return;
  shut_down_ = true;
  if (grpc_server_ != nullptr) {
    grpc_server_->GetHealthCheckService()->SetServingStatus(false);
    // gRPC's own shutdown first: it stops listening and sends GOAWAY on every
    // connection before it returns, and from then on answers any new call
    // CANCELLED. Only then do the streams end UNAVAILABLE, so that on each
    // connection the GOAWAY precedes the status: a client reconnecting after
    // it opens a new connection and is refused (UNAVAILABLE), instead of
    // racing a new call onto the draining one (CANCELLED; issue 21 §2).
    // A core queue: the tag is ours, not a grpc++ CompletionQueueTag.
    grpc_completion_queue* shutdown_cq =
        grpc_completion_queue_create_for_next(nullptr);
    int shutdown_tag = 0;
    grpc_server_shutdown_and_notify(grpc_server_->c_server(), shutdown_cq,
                                    &shutdown_tag);
    jobs_->BeginDrain();
    const absl::Time deadline = absl::Now() + grace;
    sampler_->Shutdown(deadline);  // sample streams end before gRPC stops
    grpc_server_->Shutdown(absl::ToChronoTime(deadline));
    // Done by now (Shutdown() waited for the same notification): collect
    // the tag, then the queue's own shutdown.
    grpc_completion_queue_shutdown(shutdown_cq);
    while (grpc_completion_queue_next(
               shutdown_cq, gpr_inf_future(GPR_CLOCK_REALTIME), nullptr)
               .type != GRPC_QUEUE_SHUTDOWN) {
    }
    grpc_completion_queue_destroy(shutdown_cq);
  }
  if (sampler_ != nullptr) sampler_->Shutdown(absl::Now());
  if (jobs_ != nullptr) jobs_->Shutdown();
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

}  // namespace proxflow::server
