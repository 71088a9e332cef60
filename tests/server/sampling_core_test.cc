// Sampling end to end with the real LibTorch backends: samples streamed by an
// in-process server equal, bit for bit, what core::FlowModel computes in
// process for the same checkpoint, seeds, solver and steps, however the
// server batched the requests. Point flows always; MNIST image flows (PNG)
// when PROXFLOW_MNIST_DIR is set.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "client/checkpoint_upload.h"
#include "core/device.h"
#include "core/flow_model.h"
#include "core/image/png.h"
#include "core/options_resolver.h"
#include "proxflow/v1/registry.grpc.pb.h"
#include "proxflow/v1/sampling_service.grpc.pb.h"
#include "server/core_backend.h"
#include "server/sampling/sample_output.h"
#include "server/server.h"

namespace proxflow::server {
namespace {

namespace pb = ::proxflow::v1;

class SamplingCoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(core::ConfigureTorchThreads(2).ok());  // the chunked CPU path
    char pattern[] = "/tmp/proxflow-sampling-core-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    options_.data_dir = pattern;
    options_.listen = "127.0.0.1:0";
    options_.sampling.max_batch = 16;  // 40 samples run in 3 slices
    options_.sampling.max_delay = absl::ZeroDuration();
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(options_.data_dir);
    ASSERT_TRUE(core::ConfigureTorchThreads(1).ok());
  }
  void Start() {
    auto server = Server::Start(options_, training_.get(), sampling_.get());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                   grpc::InsecureChannelCredentials());
    sampler_ = pb::SamplingService::NewStub(channel_);
  }

  // Trains `config` for a few iterations and uploads the checkpoint.
  std::string TrainAndUpload(pb::TrainingConfig config, int iterations) {
    auto options = core::ResolveTrainOptions(config);
    EXPECT_TRUE(options.ok()) << options.status();
    auto trainer = core::Trainer::Create(*options, {"cpu", ""});
    EXPECT_TRUE(trainer.ok()) << trainer.status();
    for (int i = 0; i < iterations; ++i) EXPECT_TRUE((*trainer)->Step().ok());
    auto bytes = (*trainer)->SerializeCheckpoint();
    EXPECT_TRUE(bytes.ok());
    auto uploaded = client::UploadCheckpointBytes(channel_, "flow", *bytes);
    EXPECT_TRUE(uploaded.ok()) << uploaded.status();
    return *bytes;
  }

  // Sample item bytes keyed by first sample index, from one call.
  std::map<int, std::string> Sample(const pb::SampleRequest& request) {
    grpc::ClientContext context;
    auto reader = sampler_->Sample(&context, request);
    std::map<int, std::string> items;
    pb::SampleEvent e;
    while (reader->Read(&e)) {
      if (e.has_image_chunk())
        items[e.image_chunk().item().index()] += e.image_chunk().data();
    }
    grpc::Status s = reader->Finish();
    EXPECT_TRUE(s.ok()) << s.error_message();
    return items;
  }

  ServerOptions options_;
  std::unique_ptr<TrainingBackend> training_ = MakeCoreTrainingBackend();
  std::unique_ptr<SamplingBackend> sampling_ = MakeCoreSamplingBackend();
  std::unique_ptr<Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<pb::SamplingService::Stub> sampler_;
};

std::vector<uint64_t> Seeds(uint64_t first, int n) {
  std::vector<uint64_t> s(n);
  for (int i = 0; i < n; ++i) s[i] = first + i;
  return s;
}

TEST_F(SamplingCoreTest, StreamedPointsEqualInProcessSamplingBitForBit) {
  Start();
  pb::TrainingConfig c;
  c.set_preset("toy-2d");
  c.mutable_dataset()->set_pool_size(1000);
  c.mutable_source()->set_pool_size(1000);
  c.set_eval_batch_size(256);
  c.set_batch_size(64);
  const std::string bytes = TrainAndUpload(c, 3);
  auto model = core::FlowModel::Load(bytes, "cpu");
  ASSERT_TRUE(model.ok());
  const std::vector<uint64_t> seeds = Seeds(500, 40);
  auto want = (*model)->Sample(seeds, core::Solver::kHeun, 7);
  ASSERT_TRUE(want.ok());

  pb::SampleRequest r;
  r.set_model_ref("flow@latest");
  r.mutable_seeds()->Add(seeds.begin(), seeds.end());
  r.set_solver(pb::SOLVER_HEUN);
  r.set_steps(7);
  // Alone (3 slices of 16, 16, 8) and interleaved with other requests that
  // share its batches at other offsets.
  std::string alone;
  for (auto& [index, item] : Sample(r)) alone += item;
  std::string together;
  {
    pb::SampleRequest other = r;
    other.clear_seeds();
    for (uint64_t s : Seeds(9000, 5)) other.add_seeds(s);
    std::map<int, std::string> mine;
    std::thread a([&] { Sample(other); });
    std::thread b([&] { mine = Sample(r); });
    std::thread d([&] { Sample(other); });
    a.join();
    b.join();
    d.join();
    for (auto& [index, item] : mine) together += item;
  }
  const std::string in_process(
      reinterpret_cast<const char*>(want->values.data()),
      want->values.size() * sizeof(float));
  EXPECT_EQ(alone, in_process);
  EXPECT_EQ(together, in_process);
}

TEST_F(SamplingCoreTest, StreamedPngsEqualInProcessMnistSamplesBitForBit) {
  const char* mnist = std::getenv("PROXFLOW_MNIST_DIR");
  if (mnist == nullptr)
    GTEST_SKIP() << "PROXFLOW_MNIST_DIR is unset: MNIST sampling test skipped";
  Start();
  pb::TrainingConfig c;
  c.set_preset("mnist");
  c.mutable_dataset()->set_mnist_dir(mnist);
  c.mutable_dataset()->set_subset_size(256);
  c.set_batch_size(32);
  c.set_eval_batch_size(64);
  c.mutable_critic()->set_steps_per_iteration(1);
  const std::string bytes = TrainAndUpload(c, 2);
  auto model = core::FlowModel::Load(bytes, "cpu");
  ASSERT_TRUE(model.ok());
  const std::vector<uint64_t> seeds = Seeds(77, 20);
  auto want = (*model)->Sample(seeds, core::Solver::kEuler, 5);
  ASSERT_TRUE(want.ok());
  pb::SampleRequest r;
  r.set_model_ref("flow@latest");
  r.mutable_seeds()->Add(seeds.begin(), seeds.end());
  const std::map<int, std::string> pngs = Sample(r);
  ASSERT_EQ(pngs.size(), seeds.size());
  for (const auto& [index, png] : pngs) {
    auto image = image::DecodePng(png);
    ASSERT_TRUE(image.ok()) << image.status();
    ASSERT_EQ(image->width, 28);
    ASSERT_EQ(image->height, 28);
    ASSERT_EQ(image->channels, 1);
    for (int j = 0; j < 784; ++j) {
      ASSERT_EQ(image->pixels[j], QuantizePixel(want->values[index * 784 + j]))
          << "image " << index << " pixel " << j;
    }
  }
  // Raw float32 is the in-process tensor itself.
  r.set_encoding(pb::SAMPLE_ENCODING_FLOAT32);
  const std::map<int, std::string> raw = Sample(r);
  ASSERT_EQ(raw.size(), seeds.size());
  EXPECT_EQ(
      raw.at(3),
      std::string(reinterpret_cast<const char*>(want->values.data() + 3 * 784),
                  784 * sizeof(float)));
}

}  // namespace
}  // namespace proxflow::server
