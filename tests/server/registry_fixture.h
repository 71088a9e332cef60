// RegistryTest: an in-process server (fake backend) plus CheckpointRegistry
// client helpers, for the registry suites.
#ifndef PROXFLOW_TESTS_SERVER_REGISTRY_FIXTURE_H_
#define PROXFLOW_TESTS_SERVER_REGISTRY_FIXTURE_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/base/sha256.h"
#include "tests/server/server_fixture.h"

namespace proxflow::server::testing {

inline constexpr char kModel[] = "reg-model";

class RegistryTest : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    StartServer();
  }

  static pb::TrainingConfig Config(int64_t iterations = 20) {
    pb::TrainingConfig c = ToyConfig(iterations);
    c.set_model(kModel);
    c.set_eval_interval(5);
    return c;
  }

  // Submits and waits for the job's end.
  pb::Job Run(const pb::TrainingConfig& config) {
    pb::Job job;
    EXPECT_TRUE(Submit(config, &job).ok());
    Watch(job.id());
    return GetJob(job.id());
  }

  std::vector<int64_t> Versions(const pb::ListCheckpointsRequest& request) {
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    pb::ListCheckpointsResponse response;
    grpc::Status s = registry_->ListCheckpoints(&context, request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    std::vector<int64_t> out;
    for (const auto& c : response.checkpoints()) out.push_back(c.version());
    return out;
  }

  std::vector<int64_t> ReadyVersions() {
    pb::ListCheckpointsRequest request;
    request.set_model(kModel);
    return Versions(request);
  }

  pb::Checkpoint Get(const std::string& ref) {
    pb::Checkpoint c;
    grpc::Status s = GetCheckpoint(ref, &c);
    EXPECT_TRUE(s.ok()) << ref << ": " << s.error_message();
    return c;
  }

  struct Downloaded {
    grpc::Status status;
    pb::Checkpoint header;
    std::string bytes;
    std::vector<int64_t> offsets;
  };
  Downloaded Download(const std::string& ref, int64_t offset = 0,
                      int chunk = 0) {
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    pb::DownloadCheckpointRequest request;
    request.set_ref(ref);
    request.set_offset(offset);
    request.set_chunk_size_bytes(chunk);
    auto reader = registry_->DownloadCheckpoint(&context, request);
    Downloaded out;
    pb::DownloadCheckpointResponse r;
    while (reader->Read(&r)) {
      if (r.has_header()) out.header = r.header();
      if (r.has_chunk()) {
        out.offsets.push_back(r.chunk().offset());
        out.bytes += r.chunk().data();
      }
    }
    out.status = reader->Finish();
    return out;
  }

  grpc::Status Upload(const pb::UploadCheckpointHeader& header,
                      const std::string& bytes, pb::Checkpoint* out,
                      size_t chunk = 1000, bool send_header = true) {
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    auto writer = registry_->UploadCheckpoint(&context, out);
    pb::UploadCheckpointRequest r;
    if (send_header) {
      *r.mutable_header() = header;
      writer->Write(r);
    }
    for (size_t i = 0; i < bytes.size(); i += chunk) {
      r.set_chunk(bytes.substr(i, chunk));
      if (!writer->Write(r)) break;
    }
    writer->WritesDone();
    return writer->Finish();
  }

  static pb::UploadCheckpointHeader Header(const std::string& model,
                                           const std::string& bytes) {
    pb::UploadCheckpointHeader h;
    h.set_model(model);
    h.set_sha256(Sha256Hex(bytes));
    h.set_size_bytes(static_cast<int64_t>(bytes.size()));
    return h;
  }

  template <typename Request, typename Response, typename Method>
  grpc::Status Call(Method method, const Request& request, Response* response) {
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    return ((*registry_).*method)(&context, request, response);
  }

  grpc::Status SetAlias(const std::string& alias, const std::string& ref,
                        pb::SetAliasResponse* out = nullptr) {
    pb::SetAliasRequest request;
    request.set_model(kModel);
    request.set_alias(alias);
    request.set_ref(ref);
    pb::SetAliasResponse response;
    grpc::Status s =
        Call(&pb::CheckpointRegistry::Stub::SetAlias, request, &response);
    if (out != nullptr) *out = response;
    return s;
  }

  grpc::Status Pin(const std::string& ref, bool pinned) {
    pb::UpdateCheckpointRequest request;
    request.set_ref(ref);
    request.set_set_pinned(true);
    request.set_pinned(pinned);
    pb::Checkpoint out;
    return Call(&pb::CheckpointRegistry::Stub::UpdateCheckpoint, request, &out);
  }

  pb::GcPlan Gc(bool run) {
    pb::GcRequest request;
    pb::GcPlan plan;
    grpc::Status s =
        run ? Call(&pb::CheckpointRegistry::Stub::RunGc, request, &plan)
            : Call(&pb::CheckpointRegistry::Stub::PreviewGc, request, &plan);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return plan;
  }
};

inline std::vector<int64_t> VersionsOf(
    const google::protobuf::RepeatedPtrField<pb::Checkpoint>& cs) {
  std::vector<int64_t> out;
  for (const auto& c : cs) out.push_back(c.version());
  return out;
}

}  // namespace proxflow::server::testing

#endif  // PROXFLOW_TESTS_SERVER_REGISTRY_FIXTURE_H_
