// proxflow-registry-bench: what the checkpoint registry costs.
//
//   proxflow-registry-bench [--threads 2] [--repeats 5] [--mnist_dir DIR]
//                           [--download_width 1024]
//
// 1. Checkpoint save, per preset (toy-2d, and mnist when --mnist_dir or
//    PROXFLOW_MNIST_DIR names the data): the file's size; the time to
//    serialize a run after one iteration; and Registry::SaveTraining (PENDING
//    row, blob staged + fsynced + renamed, re-read and re-hashed, READY with
//    alias moves, retention) side by side with the bare durable write of the
//    same bytes (temp, fsync, rename) as the baseline. Medians of --repeats.
// 2. Download throughput over loopback gRPC from an in-process server, of a
//    large checkpoint (a toy-2d run with --download_width wide networks),
//    side by side with reading the same blob in-process in the same 1 MiB
//    ranges. Medians of --repeats.
// Prints one JSON object.
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/checkpoint_upload.h"
#include "core/base/blas_kernels.h"
#include "core/base/file_util.h"
#include "core/base/program_help.h"
#include "core/base/sha256.h"
#include "core/base/status_macros.h"
#include "core/device.h"
#include "core/options_resolver.h"
#include "core/trainer.h"
#include "proto/rpc/status_conversion.h"
#include "proxflow/v1/registry.grpc.pb.h"
#include "server/core_backend.h"
#include "server/registry/registry.h"
#include "server/server.h"
#include "server/storage/blob_store.h"
#include "server/storage/database.h"
#include "server/storage/registry_store.h"
#include "server/storage/schema.h"
#include "tools/bench/bench_util.h"

ABSL_FLAG(int, threads, 2, "LibTorch intra-op threads");
ABSL_FLAG(int, repeats, 5, "repeats (medians are reported)");
ABSL_FLAG(
    std::string, mnist_dir, "",
    "MNIST IDX directory (default: $PROXFLOW_MNIST_DIR); skipped if none");
ABSL_FLAG(int, download_width, 1024,
          "hidden width of the networks whose checkpoint is downloaded");

namespace {

namespace pb = proxflow::v1;
namespace core = proxflow::core;
namespace server = proxflow::server;
using proxflow::bench::Clock;
using proxflow::bench::Median;
using proxflow::bench::SecondsSince;

// A run's checkpoint after one iteration (optimiser state included).
absl::StatusOr<std::string> CheckpointAfterOneStep(
    const pb::TrainingConfig& config, double* serialize_seconds, int repeats) {
  PROXFLOW_ASSIGN_OR_RETURN(core::TrainOptions options,
                            core::ResolveTrainOptions(config));
  PROXFLOW_ASSIGN_OR_RETURN(auto trainer,
                            core::Trainer::Create(options, {"cpu", ""}));
  PROXFLOW_RETURN_IF_ERROR(trainer->Step().status());
  std::vector<double> times;
  std::string bytes;
  for (int r = 0; r < repeats; ++r) {
    const auto start = Clock::now();
    PROXFLOW_ASSIGN_OR_RETURN(bytes, trainer->SerializeCheckpoint());
    times.push_back(SecondsSince(start));
  }
  *serialize_seconds = Median(times);
  return bytes;
}

struct SaveFigures {
  std::string preset;
  int64_t size_bytes = 0;
  double serialize_ms = 0, registry_save_ms = 0, durable_write_ms = 0;
};

absl::StatusOr<SaveFigures> MeasureSave(const std::string& preset,
                                        const pb::TrainingConfig& config,
                                        const std::string& dir, int repeats) {
  SaveFigures f;
  f.preset = preset;
  double serialize = 0;
  PROXFLOW_ASSIGN_OR_RETURN(
      std::string bytes, CheckpointAfterOneStep(config, &serialize, repeats));
  f.size_bytes = static_cast<int64_t>(bytes.size());
  f.serialize_ms = serialize * 1e3;

  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  PROXFLOW_ASSIGN_OR_RETURN(
      auto db, server::Database::Open(dir + "/proxflow.db", server::kSchema));
  PROXFLOW_ASSIGN_OR_RETURN(auto blobs,
                            server::CreateFileBlobStore(dir + "/blobs"));
  auto store = server::CreateSqliteRegistryStore(db.get());
  PROXFLOW_ASSIGN_OR_RETURN(
      auto registry, server::Registry::Create({}, store.get(), blobs.get(),
                                              core::InspectCheckpoint));
  PROXFLOW_ASSIGN_OR_RETURN(core::TrainOptions options,
                            core::ResolveTrainOptions(config));
  std::vector<double> save, write;
  for (int r = 0; r < repeats; ++r) {
    // Distinct contents each time, so no save is a deduplicated no-op.
    std::string variant = bytes;
    variant.back() ^= static_cast<char>(r + 1);
    server::TrainingSave s;
    s.model = "bench";
    s.bytes = variant;
    s.lineage.set_job_id("bench-job");
    s.lineage.set_step(r + 1);
    *s.lineage.mutable_resolved_config() = options.resolved_config;
    s.device = "cpu";
    auto start = Clock::now();
    PROXFLOW_RETURN_IF_ERROR(registry->SaveTraining(std::move(s)).status());
    save.push_back(SecondsSince(start));

    start = Clock::now();
    PROXFLOW_RETURN_IF_ERROR(proxflow::WriteFileAtomically(
        absl::StrCat(dir, "/plain-", r), variant));
    write.push_back(SecondsSince(start));
  }
  f.registry_save_ms = Median(save) * 1e3;
  f.durable_write_ms = Median(write) * 1e3;
  std::filesystem::remove_all(dir);
  return f;
}

struct DownloadFigures {
  int64_t size_bytes = 0;
  double grpc_mib_per_s = 0, local_mib_per_s = 0;
};

absl::StatusOr<DownloadFigures> MeasureDownload(const std::string& dir,
                                                int width, int repeats) {
  pb::TrainingConfig config;
  config.set_preset("toy-2d");
  config.mutable_generator()->mutable_network()->set_width(width);
  config.mutable_critic()->mutable_network()->set_width(width);
  double unused = 0;
  PROXFLOW_ASSIGN_OR_RETURN(std::string bytes,
                            CheckpointAfterOneStep(config, &unused, 1));
  std::filesystem::remove_all(dir);
  auto backend = server::MakeCoreTrainingBackend();
  auto sampling = server::MakeCoreSamplingBackend();
  server::ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.data_dir = dir;
  PROXFLOW_ASSIGN_OR_RETURN(
      auto srv, server::Server::Start(options, backend.get(), sampling.get()));
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", srv->port()),
                                     grpc::InsecureChannelCredentials());
  auto stub = pb::CheckpointRegistry::NewStub(channel);
  PROXFLOW_ASSIGN_OR_RETURN(
      pb::Checkpoint uploaded,
      proxflow::client::UploadCheckpointBytes(channel, "bench", bytes));
  std::vector<double> grpc_rates, local_rates;
  const double mib = static_cast<double>(bytes.size()) / (1 << 20);
  auto blobs = server::CreateFileBlobStore(dir + "/blobs");
  PROXFLOW_RETURN_IF_ERROR(blobs.status());
  for (int rep = 0; rep < repeats; ++rep) {
    auto start = Clock::now();
    grpc::ClientContext context;
    pb::DownloadCheckpointRequest request;
    request.set_ref(uploaded.uuid());
    auto reader = stub->DownloadCheckpoint(&context, request);
    pb::DownloadCheckpointResponse r;
    proxflow::Sha256 digest;
    int64_t received = 0;
    while (reader->Read(&r)) {
      digest.Update(r.chunk().data());
      received += static_cast<int64_t>(r.chunk().data().size());
    }
    PROXFLOW_RETURN_IF_ERROR(proxflow::rpc::FromGrpcStatus(reader->Finish()));
    if (received != static_cast<int64_t>(bytes.size()) ||
        digest.HexDigest() != uploaded.files(0).sha256()) {
      return absl::DataLossError("download did not round-trip");
    }
    grpc_rates.push_back(mib / SecondsSince(start));

    // Baseline: the same verification pass and range reads, in process.
    start = Clock::now();
    const std::string& sha = uploaded.files(0).sha256();
    PROXFLOW_RETURN_IF_ERROR((*blobs)->Verify(sha));
    proxflow::Sha256 local;
    for (int64_t off = 0; off < static_cast<int64_t>(bytes.size());
         off += int64_t{1} << 20) {
      PROXFLOW_ASSIGN_OR_RETURN(
          std::string part, (*blobs)->ReadRange(sha, off, int64_t{1} << 20));
      local.Update(part);
    }
    if (local.HexDigest() != sha) return absl::DataLossError("local read");
    local_rates.push_back(mib / SecondsSince(start));
  }
  srv->Shutdown(absl::Seconds(1));
  std::filesystem::remove_all(dir);
  DownloadFigures f;
  f.size_bytes = static_cast<int64_t>(bytes.size());
  f.grpc_mib_per_s = Median(grpc_rates);
  f.local_mib_per_s = Median(local_rates);
  return f;
}

absl::Status Main() {
  const int repeats = absl::GetFlag(FLAGS_repeats);
  PROXFLOW_RETURN_IF_ERROR(
      core::ConfigureTorchThreads(absl::GetFlag(FLAGS_threads)).status());
  const std::string dir =
      (std::filesystem::temp_directory_path() / "proxflow-registry-bench")
          .string();
  const std::string mnist =
      proxflow::bench::MnistDir(absl::GetFlag(FLAGS_mnist_dir));

  std::vector<std::string> saves;
  std::vector<std::pair<std::string, pb::TrainingConfig>> presets;
  pb::TrainingConfig toy;
  toy.set_preset("toy-2d");
  presets.emplace_back("toy-2d", toy);
  if (!mnist.empty()) {
    pb::TrainingConfig m;
    m.set_preset("mnist");
    m.mutable_dataset()->set_mnist_dir(mnist);
    presets.emplace_back("mnist", m);
  }
  for (const auto& [name, config] : presets) {
    PROXFLOW_ASSIGN_OR_RETURN(SaveFigures f,
                              MeasureSave(name, config, dir, repeats));
    saves.push_back(absl::StrFormat(
        "{\"preset\": \"%s\", \"size_bytes\": %d, \"serialize_ms\": %.2f, "
        "\"registry_save_ms\": %.2f, \"durable_write_ms\": %.2f, "
        "\"ratio\": %.2f}",
        f.preset, f.size_bytes, f.serialize_ms, f.registry_save_ms,
        f.durable_write_ms, f.registry_save_ms / f.durable_write_ms));
  }
  PROXFLOW_ASSIGN_OR_RETURN(
      DownloadFigures d,
      MeasureDownload(dir, absl::GetFlag(FLAGS_download_width), repeats));
  std::printf(
      "{\"repeats\": %d, \"saves\": [%s], \"download\": {\"size_bytes\": %lld, "
      "\"grpc_loopback_mib_per_s\": %.1f, \"local_read_mib_per_s\": %.1f, "
      "\"ratio\": %.3f}}\n",
      repeats, absl::StrJoin(saves, ", ").c_str(),
      static_cast<long long>(d.size_bytes), d.grpc_mib_per_s, d.local_mib_per_s,
      d.grpc_mib_per_s / d.local_mib_per_s);
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  proxflow::SelectBlasKernels(
      argv,
      /*passive_openmp_wait=*/true);  // may re-execute; see blas_kernels.h
  proxflow::SetProgramHelp(
      "registry save, list and download speed against an in-process server "
      "(docs/PERFORMANCE.md)\n\n  proxflow-registry-bench [flags]");
  absl::ParseCommandLine(argc, argv);
  return proxflow::bench::ExitCode("proxflow-registry-bench", Main());
}
