// Security of the gRPC surface: the tokens file parser, every RPC against every
// role (UNAUTHENTICATED without a known token, PERMISSION_DENIED below the
// method's role, admitted at or above it), health without a token, SIGHUP-style
// reload, and TLS / mutual TLS with the test certificates of
// tests/testing/certs.
#include <google/protobuf/descriptor.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "core/base/sha256.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "server/auth/authorizer.h"
#include "tests/server/server_fixture.h"
#include "tests/testing/read_file.h"

namespace proxflow::server::testing {
namespace {

constexpr char kCerts[] = PROXFLOW_SOURCE_DIR "/tests/testing/certs/";

std::string TokenLine(const std::string& token, const std::string& name,
                      const std::string& role) {
  return "sha256:" + Sha256Hex(token) + " " + name + " " + role + "\n";
}

TEST(ParseTokens, ReadsEntriesAndNamesTheBadLine) {
  auto ok = ParseTokens("# comment\n\n" + TokenLine("a", "alice", "admin") +
                            "  " + TokenLine("b", "bob", "sampler"),
                        "t");
  ASSERT_TRUE(ok.ok()) << ok.status();
  ASSERT_EQ(ok->size(), 2u);
  EXPECT_EQ((*ok)[0].name, "alice");
  EXPECT_EQ((*ok)[0].role, Role::kAdmin);
  EXPECT_EQ((*ok)[1].role, Role::kSampler);
  const auto message = [](const std::string& text) {
    return std::string(ParseTokens(text, "tokens.txt").status().message());
  };
  EXPECT_EQ(message("\nsecret alice admin\n").rfind("tokens.txt:2: ", 0), 0u)
      << message("\nsecret alice admin\n");
  EXPECT_NE(
      message(TokenLine("a", "alice", "root")).find("unknown role \"root\""),
      std::string::npos);
  EXPECT_NE(message(TokenLine("a", "x", "admin") + TokenLine("a", "y", "admin"))
                .find("tokens.txt:2: the same token hash appears twice"),
            std::string::npos);
  EXPECT_NE(message(TokenLine("a", "x", "admin") + TokenLine("b", "x", "admin"))
                .find("the name \"x\" appears twice"),
            std::string::npos);
  EXPECT_NE(message("sha256:abc alice\n").find("got 2 fields"),
            std::string::npos);
}

class AuthTest : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    tokens_path_ = data_dir_ + "-tokens.txt";
    WriteTokens(TokenLine("s-token", "sam", "sampler") +
                TokenLine("t-token", "tina", "trainer") +
                TokenLine("a-token", "ada", "admin"));
    options_.auth_tokens_file = tokens_path_;
    StartServer();
  }
  void TearDown() override {
    ServerFixture::TearDown();
    std::filesystem::remove(tokens_path_);
  }
  void WriteTokens(const std::string& text) {
    std::ofstream(tokens_path_, std::ios::trunc) << text;
  }

  std::string tokens_path_;
};

// One call of each RPC, with `token` (empty: none).
struct Call {
  const char* name;
  Role required;
  std::function<grpc::Status(AuthTest*, grpc::ClientContext*)> run;
};

class AuthMatrix : public AuthTest {
 protected:
  grpc::Status Invoke(const Call& call, const std::string& token) {
    grpc::ClientContext context;
    context.set_deadline(Deadline(30));
    if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
    return call.run(this, &context);
  }
  std::vector<Call> Calls() {
    std::vector<Call> calls;
    const auto unary = [&](const char* name, Role role, auto fn) {
      calls.push_back({name, role, fn});
    };
    unary("SubmitJob", Role::kTrainer,
          [this](AuthTest*, grpc::ClientContext* c) {
            pb::SubmitJobRequest r;
            *r.mutable_config() = ToyConfig();
            r.set_validate_only(true);
            pb::SubmitJobResponse out;
            return this->training_->SubmitJob(c, r, &out);
          });
    unary("GetJob", Role::kTrainer, [this](AuthTest*, grpc::ClientContext* c) {
      pb::GetJobRequest r;
      r.set_job_id("nope");
      pb::Job out;
      return this->training_->GetJob(c, r, &out);
    });
    unary("ListJobs", Role::kTrainer,
          [this](AuthTest*, grpc::ClientContext* c) {
            pb::ListJobsResponse out;
            return this->training_->ListJobs(c, pb::ListJobsRequest(), &out);
          });
    unary("CancelJob", Role::kTrainer,
          [this](AuthTest*, grpc::ClientContext* c) {
            pb::CancelJobRequest r;
            r.set_job_id("nope");
            pb::Job out;
            return this->training_->CancelJob(c, r, &out);
          });
    unary("WatchJob", Role::kTrainer,
          [this](AuthTest*, grpc::ClientContext* c) {
            pb::WatchJobRequest r;
            r.set_job_id("nope");
            auto reader = this->training_->WatchJob(c, r);
            pb::JobEvent e;
            while (reader->Read(&e)) {
            }
            return reader->Finish();
          });
    unary("UploadDataset", Role::kTrainer,
          [this](AuthTest*, grpc::ClientContext* c) {
            pb::Dataset out;
            auto writer = this->datasets_->UploadDataset(c, &out);
            writer->WritesDone();
            return writer->Finish();
          });
    unary("ListDatasets", Role::kTrainer,
          [this](AuthTest*, grpc::ClientContext* c) {
            pb::ListDatasetsResponse out;
            return this->datasets_->ListDatasets(c, pb::ListDatasetsRequest(),
                                                 &out);
          });
    unary("GetDataset", Role::kTrainer,
          [this](AuthTest*, grpc::ClientContext* c) {
            pb::GetDatasetRequest r;
            r.set_name("nope");
            pb::Dataset out;
            return this->datasets_->GetDataset(c, r, &out);
          });
    unary("DeleteDataset", Role::kAdmin,
          [this](AuthTest*, grpc::ClientContext* c) {
            pb::DeleteDatasetRequest r;
            r.set_name("nope");
            pb::DeleteDatasetResponse out;
            return this->datasets_->DeleteDataset(c, r, &out);
          });
    unary("ListModels", Role::kSampler,
          [this](AuthTest*, grpc::ClientContext* c) {
            pb::ListModelsResponse out;
            return this->registry_->ListModels(c, pb::ListModelsRequest(),
                                               &out);
          });
    unary("ListCheckpoints", Role::kSampler,
          [this](AuthTest*, grpc::ClientContext* c) {
            pb::ListCheckpointsResponse out;
            return this->registry_->ListCheckpoints(
                c, pb::ListCheckpointsRequest(), &out);
          });
    unary("GetCheckpoint", Role::kSampler,
          [this](AuthTest*, grpc::ClientContext* c) {
            pb::GetCheckpointRequest r;
            r.set_ref("nope@latest");
            pb::Checkpoint out;
            return this->registry_->GetCheckpoint(c, r, &out);
          });
    unary("SetAlias", Role::kAdmin, [this](AuthTest*, grpc::ClientContext* c) {
      pb::SetAliasRequest r;
      pb::SetAliasResponse out;
      return this->registry_->SetAlias(c, r, &out);
    });
    unary("DeleteAlias", Role::kAdmin,
          [this](AuthTest*, grpc::ClientContext* c) {
            pb::DeleteAliasRequest r;
            pb::DeleteAliasResponse out;
            return this->registry_->DeleteAlias(c, r, &out);
          });
    unary("ListAliasHistory", Role::kSampler,
          [this](AuthTest*, grpc::ClientContext* c) {
            pb::ListAliasHistoryRequest r;
            pb::ListAliasHistoryResponse out;
            return this->registry_->ListAliasHistory(c, r, &out);
          });
    unary("UpdateCheckpoint", Role::kTrainer,
          [this](AuthTest*, grpc::ClientContext* c) {
            pb::UpdateCheckpointRequest r;
            pb::Checkpoint out;
            return this->registry_->UpdateCheckpoint(c, r, &out);
          });
    unary("DeleteCheckpoint", Role::kAdmin,
          [this](AuthTest*, grpc::ClientContext* c) {
            pb::DeleteCheckpointRequest r;
            pb::Checkpoint out;
            return this->registry_->DeleteCheckpoint(c, r, &out);
          });
    unary("UploadCheckpoint", Role::kTrainer,
          [this](AuthTest*, grpc::ClientContext* c) {
            pb::Checkpoint out;
            auto writer = this->registry_->UploadCheckpoint(c, &out);
            writer->WritesDone();
            return writer->Finish();
          });
    unary("DownloadCheckpoint", Role::kSampler,
          [this](AuthTest*, grpc::ClientContext* c) {
            pb::DownloadCheckpointRequest r;
            r.set_ref("nope@latest");
            auto reader = this->registry_->DownloadCheckpoint(c, r);
            pb::DownloadCheckpointResponse m;
            while (reader->Read(&m)) {
            }
            return reader->Finish();
          });
    unary("PreviewGc", Role::kSampler,
          [this](AuthTest*, grpc::ClientContext* c) {
            pb::GcPlan out;
            return this->registry_->PreviewGc(c, pb::GcRequest(), &out);
          });
    unary("RunGc", Role::kAdmin, [this](AuthTest*, grpc::ClientContext* c) {
      pb::GcPlan out;
      return this->registry_->RunGc(c, pb::GcRequest(), &out);
    });
    unary("Sample", Role::kSampler, [this](AuthTest*, grpc::ClientContext* c) {
      pb::SampleRequest r;
      r.set_model_ref("nope@latest");
      auto reader = this->sampling_->Sample(c, r);
      pb::SampleEvent e;
      while (reader->Read(&e)) {
      }
      return reader->Finish();
    });
    unary("ListLoadedModels", Role::kSampler,
          [this](AuthTest*, grpc::ClientContext* c) {
            pb::ListLoadedModelsResponse out;
            return this->sampling_->ListLoadedModels(
                c, pb::ListLoadedModelsRequest(), &out);
          });
    return calls;
  }
};

TEST_F(AuthMatrix, EveryRpcRefusesStrangersAndRolesBelowItsOwn) {
  const std::vector<Call> calls = Calls();
  // Every method of the four services is in the table.
  int methods = 0;
  for (const char* service :
       {"proxflow.v1.TrainingService", "proxflow.v1.DatasetService",
        "proxflow.v1.CheckpointRegistry", "proxflow.v1.SamplingService"}) {
    const auto* d =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
            service);
    ASSERT_NE(d, nullptr) << service;
    methods += d->method_count();
  }
  EXPECT_EQ(static_cast<int>(calls.size()), methods);
  const std::vector<std::pair<std::string, Role>> holders = {
      {"s-token", Role::kSampler},
      {"t-token", Role::kTrainer},
      {"a-token", Role::kAdmin}};
  for (const Call& call : calls) {
    SCOPED_TRACE(call.name);
    grpc::Status none = Invoke(call, "");
    EXPECT_EQ(none.error_code(), grpc::StatusCode::UNAUTHENTICATED)
        << none.error_message();
    EXPECT_EQ(Invoke(call, "not-a-token").error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
    for (const auto& [token, role] : holders) {
      const grpc::Status s = Invoke(call, token);
      if (static_cast<int>(role) < static_cast<int>(call.required)) {
        EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED)
            << RoleName(role) << ": " << s.error_message();
        EXPECT_NE(s.error_message().find(std::string("needs ") +
                                         RoleName(call.required)),
                  std::string::npos)
            << s.error_message();
      } else {
        EXPECT_NE(s.error_code(), grpc::StatusCode::UNAUTHENTICATED)
            << RoleName(role) << ": " << s.error_message();
        EXPECT_NE(s.error_code(), grpc::StatusCode::PERMISSION_DENIED)
            << RoleName(role) << ": " << s.error_message();
      }
    }
  }
}

TEST_F(AuthTest, HealthNeedsNoTokenAndTrainerSubmitsForReal) {
  auto health = grpc::health::v1::Health::NewStub(channel_);
  grpc::ClientContext hc;
  grpc::health::v1::HealthCheckRequest hr;
  grpc::health::v1::HealthCheckResponse hs;
  ASSERT_TRUE(health->Check(&hc, hr, &hs).ok());
  EXPECT_EQ(hs.status(), grpc::health::v1::HealthCheckResponse::SERVING);

  grpc::ClientContext c;
  c.AddMetadata("authorization", "Bearer t-token");
  pb::SubmitJobRequest r;
  *r.mutable_config() = ToyConfig();
  pb::SubmitJobResponse out;
  const grpc::Status s = training_->SubmitJob(&c, r, &out);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(out.created());
}

TEST_F(AuthTest, ReloadSwapsTokensAndKeepsThemOnABadFile) {
  const auto submit_status = [&](const std::string& token) {
    grpc::ClientContext c;
    c.AddMetadata("authorization", "Bearer " + token);
    pb::ListJobsResponse out;
    return training_->ListJobs(&c, pb::ListJobsRequest(), &out).error_code();
  };
  EXPECT_EQ(submit_status("t-token"), grpc::StatusCode::OK);
  WriteTokens(TokenLine("new-token", "nia", "trainer"));
  ASSERT_TRUE(server_->ReloadTokens().ok());
  EXPECT_EQ(submit_status("t-token"), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(submit_status("new-token"), grpc::StatusCode::OK);
  WriteTokens("sha256:garbage nia trainer\n");
  const absl::Status bad = server_->ReloadTokens();
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find(":1: "), absl::string_view::npos) << bad;
  EXPECT_EQ(submit_status("new-token"), grpc::StatusCode::OK)
      << "a bad file must leave the previous tokens in force";
  WriteTokens("# nobody\n");
  EXPECT_EQ(server_->ReloadTokens().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ServerFixture, RefusesBadSecuritySettingsBeforeTouchingStorage) {
  const auto start_code = [&](ServerOptions o) {
    return Server::Start(o, &backend_, &sampling_backend_).status();
  };
  ServerOptions o = options_;
  o.auth_tokens_file = data_dir_ + "/missing-tokens.txt";
  EXPECT_NE(start_code(o).message().find("--auth_tokens_file"),
            absl::string_view::npos);
  o = options_;
  o.tls_key_file = std::string(kCerts) + "server.key";
  EXPECT_EQ(start_code(o).code(), absl::StatusCode::kInvalidArgument);
  o.tls_cert_file = std::string(kCerts) + "make-certs.sh";
  const absl::Status not_pem = start_code(o);
  EXPECT_NE(not_pem.message().find("--tls_cert"), absl::string_view::npos)
      << not_pem;
  EXPECT_NE(not_pem.message().find("not a PEM file"), absl::string_view::npos);
  EXPECT_FALSE(std::filesystem::exists(data_dir_ + "/proxflow.db"));
}

class TlsTest : public ServerFixture {
 protected:
  std::shared_ptr<grpc::Channel> Channel(const std::string& ca,
                                         bool client_cert) {
    grpc::SslCredentialsOptions o;
    o.pem_root_certs = proxflow::testing::ReadOrEmpty(std::string(kCerts) + ca);
    if (client_cert) {
      o.pem_cert_chain =
          proxflow::testing::ReadOrEmpty(std::string(kCerts) + "client.pem");
      o.pem_private_key =
          proxflow::testing::ReadOrEmpty(std::string(kCerts) + "client.key");
    }
    // 127.0.0.1 (the certificate's IP SAN): a bare fresh machine may resolve
    // "localhost" to ::1 only, where the server does not listen.
    return grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                               grpc::SslCredentials(o));
  }
  static grpc::StatusCode ListJobs(const std::shared_ptr<grpc::Channel>& ch) {
    grpc::ClientContext c;
    c.set_deadline(Deadline(10));
    pb::ListJobsResponse out;
    return pb::TrainingService::NewStub(ch)
        ->ListJobs(&c, pb::ListJobsRequest(), &out)
        .error_code();
  }
};

TEST_F(TlsTest, ServesTlsAndRequiresClientCertificatesWhenAsked) {
  options_.tls_cert_file = std::string(kCerts) + "server.pem";
  options_.tls_key_file = std::string(kCerts) + "server.key";
  StartServer();
  EXPECT_EQ(ListJobs(Channel("ca.pem", false)), grpc::StatusCode::OK);
  EXPECT_EQ(ListJobs(Channel("other-ca.pem", false)),
            grpc::StatusCode::UNAVAILABLE)
      << "a server certificate from another CA must not verify";
  EXPECT_EQ(ListJobs(channel_), grpc::StatusCode::UNAVAILABLE)
      << "plaintext against a TLS listener";

  options_.tls_client_ca_file = std::string(kCerts) + "ca.pem";
  StartServer();
  EXPECT_EQ(ListJobs(Channel("ca.pem", true)), grpc::StatusCode::OK);
  EXPECT_EQ(ListJobs(Channel("ca.pem", false)), grpc::StatusCode::UNAVAILABLE)
      << "mutual TLS without a client certificate";
}

}  // namespace
}  // namespace proxflow::server::testing
