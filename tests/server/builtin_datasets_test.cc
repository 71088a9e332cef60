// The operator's dataset catalog (--datasets_root) and what a remote config
// may name: a dataset by kind or upload name, never a directory on the server.
#include "server/builtin_datasets.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/server/server_fixture.h"

namespace proxflow::server::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

// An IDX file of unsigned bytes with the given dims.
void WriteIdx(const std::string& path, const std::vector<uint32_t>& dims) {
  std::string s = {0, 0, 0x08, static_cast<char>(dims.size())};
  size_t payload = 1;
  for (uint32_t d : dims) {
    payload *= d;
    for (int shift : {24, 16, 8, 0})
      s.push_back(static_cast<char>((d >> shift) & 0xff));
  }
  for (size_t i = 0; i < payload; ++i) s.push_back(static_cast<char>(i % 10));
  std::ofstream(path, std::ios::binary) << s;
}

class CatalogDir : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/proxflow-catalog-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    root_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  // root_/mnist with `images` fake digits.
  std::string MakeMnist(uint32_t images) {
    const std::string dir = root_ + "/mnist";
    std::filesystem::create_directories(dir);
    WriteIdx(dir + "/t10k-images-idx3-ubyte", {images, 28, 28});
    WriteIdx(dir + "/t10k-labels-idx1-ubyte", {images});
    return dir;
  }
  std::string root_;
};

TEST_F(CatalogDir, OffersMnistOnlyWhenItsFilesRead) {
  auto none = BuiltinDatasets::Open("");
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(none->mnist_dir(), "");
  EXPECT_EQ(none->Describe(), "none (no --datasets_root)");

  auto missing = BuiltinDatasets::Open(root_ + "/absent");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(missing.status().message(),
              AllOf(HasSubstr("--datasets_root"), HasSubstr("/absent")));

  auto empty = BuiltinDatasets::Open(root_);
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(empty->mnist_dir(), "");
  EXPECT_THAT(empty->Describe(), HasSubstr("has no mnist/"));

  std::filesystem::create_directories(root_ + "/mnist");
  std::ofstream(root_ + "/mnist/t10k-images-idx3-ubyte") << "not idx";
  auto broken = BuiltinDatasets::Open(root_);
  EXPECT_EQ(broken.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(
      broken.status().message(),
      AllOf(HasSubstr("--datasets_root"), HasSubstr("does not hold MNIST"),
            HasSubstr("t10k-images-idx3-ubyte")));

  const std::string dir = MakeMnist(12);
  auto good = BuiltinDatasets::Open(root_);
  ASSERT_TRUE(good.ok()) << good.status();
  EXPECT_EQ(good->mnist_dir(), dir);
  EXPECT_EQ(good->mnist_images(), 12);
  EXPECT_EQ(good->Describe(), "mnist (12 images in " + dir + ")");
}

class DatasetCatalogServerTest : public ServerFixture {
 protected:
  int JobCount() {
    grpc::ClientContext context;
    pb::ListJobsResponse list;
    EXPECT_TRUE(training_->ListJobs(&context, {}, &list).ok());
    return list.jobs_size();
  }
};

// Before the catalog, SubmitJob accepted these and the job failed later,
// having read (or tried) a server directory the client chose.
TEST_F(DatasetCatalogServerTest, AConfigNamingAServerPathIsInvalidArgument) {
  StartServer();
  for (const char* path : {"/etc", "/nonexistent/dir"}) {
    for (const char* preset : {"mnist", "toy-2d"}) {
      pb::TrainingConfig c = ToyConfig();
      c.set_preset(preset);
      c.mutable_dataset()->set_mnist_dir(path);
      for (bool validate_only : {true, false}) {
        grpc::Status s = Submit(c, nullptr, "", validate_only);
        EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
            << preset << " " << path << ": " << s.error_message();
        EXPECT_THAT(s.error_message(),
                    AllOf(HasSubstr("training.dataset.mnist_dir"),
                          HasSubstr("--datasets_root"),
                          HasSubstr(absl::StrCat("got \"", path, "\""))));
      }
    }
  }
  EXPECT_EQ(JobCount(), 0);
}

TEST_F(DatasetCatalogServerTest, MnistWithoutACatalogNamesTheMissingFlag) {
  StartServer();
  pb::TrainingConfig c = ToyConfig();
  c.set_preset("mnist");
  for (bool validate_only : {true, false}) {
    grpc::Status s = Submit(c, nullptr, "", validate_only);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
        << s.error_message();
    EXPECT_THAT(s.error_message(), AllOf(HasSubstr("training.dataset.kind"),
                                         HasSubstr("offers no MNIST"),
                                         HasSubstr("--datasets_root DIR")));
  }
  EXPECT_EQ(JobCount(), 0);
}

TEST_F(DatasetCatalogServerTest, MnistJobsReadTheOperatorsDirectory) {
  char pattern[] = "/tmp/proxflow-catalog-root-XXXXXX";
  ASSERT_NE(mkdtemp(pattern), nullptr);
  const std::string root = pattern;
  std::filesystem::create_directories(root + "/mnist");
  WriteIdx(root + "/mnist/t10k-images-idx3-ubyte", {300, 28, 28});
  WriteIdx(root + "/mnist/t10k-labels-idx1-ubyte", {300});
  options_.datasets_root = root;
  StartServer();
  EXPECT_EQ(server_->builtin_datasets().mnist_dir(), root + "/mnist");
  pb::TrainingConfig c = ToyConfig(10);
  c.set_preset("mnist");
  pb::Job job;
  grpc::Status s = Submit(c, &job);
  ASSERT_TRUE(s.ok()) << s.error_message();
  Watch(job.id());  // to the terminal state
  const pb::Job done = GetJob(job.id());
  EXPECT_EQ(done.state(), pb::JOB_STATE_SUCCEEDED) << done.failure_reason();
  EXPECT_EQ(backend_.last_runtime().mnist_dir, root + "/mnist");
  // The server's path stays on the server: not in what clients read back.
  EXPECT_EQ(done.resolved_config().dataset().mnist_dir(), "");
  EXPECT_EQ(done.resolved_config().dataset().kind(), pb::DATASET_KIND_MNIST);
  server_.reset();
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace proxflow::server::testing
