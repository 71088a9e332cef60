// DatasetService: uploads (chunked, verified), listing, use by jobs, deletion.
#include <string>
#include <vector>

#include "core/base/sha256.h"
#include "core/data_file.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server/server_fixture.h"

namespace proxflow::server::testing {
namespace {

using ::testing::HasSubstr;

std::string Points(int rows, int cols) {
  std::vector<float> v(static_cast<size_t>(rows) * cols);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i % 17) / 17;
  return core::SerializeFloatArray(rows, cols, v);
}

class DatasetServiceTest : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    StartServer();
  }

  // Uploads `bytes` in `chunk`-byte messages under `header` (sha256 and size
  // filled in from the bytes unless already set).
  grpc::Status Upload(pb::UploadDatasetHeader header, const std::string& bytes,
                      size_t chunk, pb::Dataset* out = nullptr) {
    if (header.sha256().empty()) header.set_sha256(Sha256Hex(bytes));
    if (header.size_bytes() == 0) header.set_size_bytes(bytes.size());
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    pb::Dataset response;
    auto writer = datasets_->UploadDataset(&context, &response);
    pb::UploadDatasetRequest request;
    *request.mutable_header() = header;
    writer->Write(request);
    for (size_t i = 0; i < bytes.size(); i += chunk) {
      request.set_chunk(bytes.substr(i, chunk));
      if (!writer->Write(request)) break;
    }
    writer->WritesDone();
    grpc::Status s = writer->Finish();
    if (out != nullptr) *out = response;
    return s;
  }

  static pb::UploadDatasetHeader Header(const std::string& name) {
    pb::UploadDatasetHeader h;
    h.set_name(name);
    h.set_format(pb::DATASET_FORMAT_FLOAT32_ARRAY);
    return h;
  }

  grpc::Status Delete(const std::string& name) {
    grpc::ClientContext context;
    pb::DeleteDatasetRequest request;
    request.set_name(name);
    pb::DeleteDatasetResponse response;
    return datasets_->DeleteDataset(&context, request, &response);
  }
};

TEST_F(DatasetServiceTest, UploadInChunksThenGetAndList) {
  const std::string bytes = Points(300, 2);
  pb::Dataset d;
  ASSERT_TRUE(Upload(Header("ring"), bytes, 1000, &d).ok());
  EXPECT_EQ(d.rows(), 300);
  EXPECT_EQ(d.dimension(), 2);
  EXPECT_EQ(d.size_bytes(), static_cast<int64_t>(bytes.size()));
  EXPECT_EQ(d.sha256(), Sha256Hex(bytes));

  ASSERT_TRUE(Upload(Header("blob"), Points(10, 3), 7).ok());
  grpc::ClientContext context;
  pb::ListDatasetsRequest request;
  request.set_page_size(1);
  pb::ListDatasetsResponse page;
  ASSERT_TRUE(datasets_->ListDatasets(&context, request, &page).ok());
  ASSERT_EQ(page.datasets_size(), 1);
  EXPECT_EQ(page.datasets(0).name(), "blob");
  grpc::ClientContext next_context;
  request.set_page_token(page.next_page_token());
  ASSERT_TRUE(datasets_->ListDatasets(&next_context, request, &page).ok());
  ASSERT_EQ(page.datasets_size(), 1);
  EXPECT_EQ(page.datasets(0).name(), "ring");
  EXPECT_TRUE(page.next_page_token().empty());

  grpc::Status taken = Upload(Header("ring"), bytes, 1000);
  EXPECT_EQ(taken.error_code(), grpc::StatusCode::ALREADY_EXISTS);
}

TEST_F(DatasetServiceTest, BadUploadsStoreNothing) {
  const std::string bytes = Points(20, 2);
  struct Bad {
    pb::UploadDatasetHeader header;
    std::string body;
    size_t chunk;
    std::string field;
  };
  std::vector<Bad> bad;
  auto h = Header("x");
  h.set_sha256(std::string(64, 'a'));
  bad.push_back({h, bytes, 100, "header.sha256"});
  h = Header("x");
  h.set_size_bytes(bytes.size() + 10);
  bad.push_back({h, bytes, 100, "header.size_bytes"});
  h = Header("x");
  h.set_size_bytes(10);
  bad.push_back({h, bytes, 100, "header.size_bytes"});
  bad.push_back({Header("bad name"), bytes, 100, "header.name"});
  h = Header("x");
  h.set_format(pb::DATASET_FORMAT_IDX);  // float bytes are no IDX
  bad.push_back({h, bytes, 100, "IDX"});
  h = Header("x");
  h.set_sha256("xyz");
  bad.push_back({h, bytes, 100, "header.sha256"});
  bad.push_back({Header("x"), std::string(bytes).substr(0, bytes.size() - 4),
                 100, "truncated"});
  bad.push_back({Header("x"), bytes, (1 << 20) + 1, "chunk"});
  for (const Bad& b : bad) {
    std::string body = b.body;
    if (b.chunk > (1 << 20)) body.resize(b.chunk + 10, '\0');
    grpc::Status s = Upload(b.header, body, b.chunk);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << b.field << ": " << s.error_message();
    EXPECT_THAT(s.error_message(), HasSubstr(b.field));
  }
  grpc::ClientContext context;
  pb::ListDatasetsResponse list;
  ASSERT_TRUE(datasets_->ListDatasets(&context, {}, &list).ok());
  EXPECT_EQ(list.datasets_size(), 0);
  // No upload file is left behind either.
  int files = 0;
  for (const auto& f : std::filesystem::directory_iterator(
           std::filesystem::path(data_dir_) / "datasets")) {
    (void)f;
    ++files;
  }
  EXPECT_EQ(files, 0);
}

TEST_F(DatasetServiceTest, JobsTrainOnUploadsWhichCannotBeDeletedWhileInUse) {
  ASSERT_TRUE(Upload(Header("pts"), Points(100, 2), 512).ok());
  pb::TrainingConfig config = ToyConfig(10);
  config.mutable_dataset()->set_kind(pb::DATASET_KIND_UPLOADED);
  config.mutable_dataset()->set_uploaded_name("pts");
  config.set_batch_size(50);
  config.set_eval_batch_size(50);

  pb::TrainingConfig wrong_dim = config;
  wrong_dim.mutable_dataset()->set_dimension(3);
  grpc::Status s = Submit(wrong_dim, nullptr);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("training.dataset.dimension"));
  pb::TrainingConfig too_big = config;
  too_big.set_batch_size(101);
  s = Submit(too_big, nullptr);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("batch_size"));

  backend_.HoldAt(3);
  pb::Job job;
  ASSERT_TRUE(Submit(config, &job).ok());
  EXPECT_EQ(job.resolved_config().model(), "pts");
  s = Delete("pts");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr(job.id()));
  backend_.Release();
  EXPECT_EQ(States(Watch(job.id())).back(), pb::JOB_STATE_SUCCEEDED);
  EXPECT_TRUE(Delete("pts").ok());
  EXPECT_EQ(Delete("pts").error_code(), grpc::StatusCode::NOT_FOUND);
  grpc::ClientContext context;
  pb::GetDatasetRequest get;
  get.set_name("pts");
  pb::Dataset out;
  EXPECT_EQ(datasets_->GetDataset(&context, get, &out).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace proxflow::server::testing

namespace proxflow::server::testing {
namespace {

class UploadProtocolTest : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    StartServer();
  }

  grpc::Status Send(const std::vector<pb::UploadDatasetRequest>& messages) {
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    pb::Dataset response;
    auto writer = datasets_->UploadDataset(&context, &response);
    for (const auto& m : messages)
      if (!writer->Write(m)) break;
    writer->WritesDone();
    return writer->Finish();
  }
};

TEST_F(UploadProtocolTest, OutOfOrderStreamsAreRefusedNamingTheHeader) {
  const std::string bytes =
      core::SerializeFloatArray(4, 2, std::vector<float>(8, 1));
  pb::UploadDatasetRequest header;
  header.mutable_header()->set_name("p");
  header.mutable_header()->set_format(pb::DATASET_FORMAT_FLOAT32_ARRAY);
  header.mutable_header()->set_sha256(Sha256Hex(bytes));
  header.mutable_header()->set_size_bytes(bytes.size());
  pb::UploadDatasetRequest chunk;
  chunk.set_chunk(bytes);
  for (const auto& stream : std::vector<std::vector<pb::UploadDatasetRequest>>{
           {}, {chunk}, {header, header}, {header, chunk, header}}) {
    grpc::Status s = Send(stream);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), ::testing::HasSubstr("header"));
  }
  EXPECT_TRUE(Send({header, chunk}).ok());
}

}  // namespace
}  // namespace proxflow::server::testing
