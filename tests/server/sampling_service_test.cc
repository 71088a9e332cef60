// SamplingService over a real gRPC server with fake backends: the stream's
// shape and bytes, seeds, encodings, frames, scatter plots, micro-batching,
// cancellation, deadlines, limits, overload and the model cache.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <thread>

#include "core/base/sha256.h"
#include "core/image/png.h"
#include "proto/rpc/retry_info.h"
#include "proto/rpc/status_conversion.h"
#include "server/sampling/sample_output.h"
#include "tests/server/sampling_fixture.h"

namespace proxflow::server::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST_F(SamplingTest, PointModelStreamsItsCoordinates) {
  StartServer();
  const pb::Checkpoint toy = UploadModel("toy", "toy-2d");
  const Streamed s = Sample(Request("toy@latest", {11, 12, 13}));
  ASSERT_TRUE(s.status.ok()) << s.status.error_message();
  // accepted first, summary last.
  ASSERT_GE(s.events.size(), 3u);
  EXPECT_TRUE(s.events.front().has_accepted());
  EXPECT_TRUE(s.events.back().has_summary());
  EXPECT_EQ(s.accepted.checkpoint_uuid(), toy.uuid());
  EXPECT_EQ(s.accepted.version(), toy.version());
  EXPECT_THAT(s.accepted.seeds(), ElementsAre(11, 12, 13));
  EXPECT_EQ(s.accepted.solver(), pb::SOLVER_EULER);  // the training solver
  EXPECT_EQ(s.accepted.steps(), 5);                  // horizon 1 / dt 0.2
  EXPECT_DOUBLE_EQ(s.accepted.dt(), 0.2);
  EXPECT_EQ(s.accepted.encoding(), pb::SAMPLE_ENCODING_FLOAT32);
  EXPECT_THAT(s.accepted.sample_shape(), ElementsAre(2));
  EXPECT_EQ(s.accepted.device(), "cpu");
  // One progress event per step for the block.
  ASSERT_EQ(s.progress.size(), 5u);
  EXPECT_EQ(s.progress.back().step(), 5);
  // One block item holding the three points.
  ASSERT_EQ(s.done.size(), 1u);
  const pb::ImageDone& d = s.done[0];
  EXPECT_EQ(d.item().kind(), pb::SAMPLE_ITEM_KIND_SAMPLE);
  EXPECT_EQ(d.item().count(), 3);
  EXPECT_EQ(d.item().step(), 5);
  EXPECT_THAT(d.seeds(), ElementsAre(11, 12, 13));
  EXPECT_THAT(d.shape(), ElementsAre(3, 2));
  const std::string& bytes = ItemBytes(s, d.item());
  ASSERT_EQ(bytes.size(), 3 * 2 * sizeof(float));
  EXPECT_EQ(d.sha256(), Sha256Hex(bytes));
  EXPECT_EQ(d.size_bytes(), 24);
  const auto* xy = reinterpret_cast<const float*>(bytes.data());
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 2; ++j)
      EXPECT_EQ(xy[i * 2 + j], FakeValue(11 + i, j, 5)) << i << "," << j;
  EXPECT_EQ(s.summary.items(), 1);
  EXPECT_EQ(s.summary.batch_size(), 3);
  EXPECT_EQ(s.summary.batches(), 1);
  EXPECT_FALSE(s.summary.model_cache_hit());
  // The second request finds the model loaded.
  const Streamed again = Sample(Request(toy.uuid(), {11}));
  ASSERT_TRUE(again.status.ok());
  EXPECT_TRUE(again.summary.model_cache_hit());
  EXPECT_EQ(sampling_backend_.loads(), 1);
  EXPECT_EQ(ItemBytes(again, again.done[0].item()), bytes.substr(0, 8));
}

TEST_F(SamplingTest, ImageModelStreamsPngsOfTheRightSize) {
  StartServer();
  UploadModel("digits", "mnist");
  pb::SampleRequest r = Request("digits/1", {5, 6, 7});
  const Streamed s = Sample(r);
  ASSERT_TRUE(s.status.ok()) << s.status.error_message();
  EXPECT_EQ(s.accepted.encoding(), pb::SAMPLE_ENCODING_PNG);
  EXPECT_THAT(s.accepted.sample_shape(), ElementsAre(28, 28));
  ASSERT_EQ(s.done.size(), 3u);
  for (const pb::ImageDone& d : s.done) {
    EXPECT_EQ(d.item().count(), 1);
    EXPECT_THAT(d.shape(), ElementsAre(28, 28));
    const std::string& png = ItemBytes(s, d.item());
    EXPECT_EQ(d.sha256(), Sha256Hex(png));
    auto image = image::DecodePng(png);
    ASSERT_TRUE(image.ok()) << image.status();
    EXPECT_EQ(image->width, 28);
    EXPECT_EQ(image->height, 28);
    EXPECT_EQ(image->channels, 1);
    const uint64_t seed = d.seeds(0);
    EXPECT_EQ(seed, 5u + d.item().index());
    for (int j = 0; j < 784; ++j)
      ASSERT_EQ(image->pixels[j], QuantizePixel(FakeValue(seed, j, 5))) << j;
  }
  // Raw encodings hold the same values.
  r.set_encoding(pb::SAMPLE_ENCODING_FLOAT32);
  const Streamed f = Sample(r);
  ASSERT_TRUE(f.status.ok());
  const std::string& raw = ItemBytes(f, f.done[0].item());
  ASSERT_EQ(raw.size(), 784 * sizeof(float));
  EXPECT_EQ(reinterpret_cast<const float*>(raw.data())[100],
            FakeValue(f.done[0].seeds(0), 100, 5));
  r.set_encoding(pb::SAMPLE_ENCODING_UINT8);
  const Streamed u = Sample(r);
  ASSERT_TRUE(u.status.ok());
  const std::string& pixels = ItemBytes(u, u.done[0].item());
  ASSERT_EQ(pixels.size(), 784u);
  EXPECT_EQ(static_cast<uint8_t>(pixels[100]),
            QuantizePixel(FakeValue(u.done[0].seeds(0), 100, 5)));
}

TEST_F(SamplingTest, LargeItemsArriveInChunksOfAtMostTheLimit) {
  options_.sampling.max_chunk_bytes = 1000;  // so a 3136-byte image splits
  StartServer();
  UploadModel("digits", "mnist");
  pb::SampleRequest r = Request("digits@latest", {1, 2});
  r.set_encoding(pb::SAMPLE_ENCODING_FLOAT32);
  const Streamed s = Sample(r);
  ASSERT_TRUE(s.status.ok());
  EXPECT_EQ(s.max_chunk, 1000);
  ASSERT_EQ(s.done.size(), 2u);
  for (const auto& d : s.done)
    EXPECT_EQ(Sha256Hex(ItemBytes(s, d.item())), d.sha256());
}

TEST_F(SamplingTest, TheServerPicksSeedsWhenNoneAreGivenAndReturnsThem) {
  StartServer();
  UploadModel("toy", "toy-2d");
  pb::SampleRequest r;
  r.set_model_ref("toy@latest");
  r.set_num_samples(4);
  r.set_request_id("nb-7");
  const Streamed s = Sample(r);
  ASSERT_TRUE(s.status.ok());
  EXPECT_EQ(s.accepted.request_id(), "nb-7");
  ASSERT_EQ(s.accepted.seeds_size(), 4);
  EXPECT_THAT(s.done[0].seeds(),
              ::testing::ElementsAreArray(s.accepted.seeds()));
  // Asking again with those seeds gives the same bytes.
  const Streamed again = Sample(Request(
      "toy@latest", {s.accepted.seeds().begin(), s.accepted.seeds().end()}));
  EXPECT_EQ(ItemBytes(again, again.done[0].item()),
            ItemBytes(s, s.done[0].item()));
}

TEST_F(SamplingTest, SolverStepsAndDtAreHonouredExactly) {
  StartServer();
  UploadModel("toy", "toy-2d");
  pb::SampleRequest r = Request("toy@latest", {3});
  r.set_solver(pb::SOLVER_RK4);
  r.set_steps(7);
  Streamed s = Sample(r);
  ASSERT_TRUE(s.status.ok());
  EXPECT_EQ(s.accepted.solver(), pb::SOLVER_RK4);
  EXPECT_EQ(s.accepted.steps(), 7);
  EXPECT_EQ(s.done[0].item().step(), 7);
  r.set_steps(0);
  r.set_dt(0.125);  // horizon 1 → 8 steps
  s = Sample(r);
  ASSERT_TRUE(s.status.ok());
  EXPECT_EQ(s.accepted.steps(), 8);
  EXPECT_DOUBLE_EQ(s.accepted.dt(), 0.125);
}

TEST_F(SamplingTest, TrajectoryFramesAndScatterPlot) {
  StartServer();
  UploadModel("toy", "toy-2d");
  pb::SampleRequest r = Request("toy@latest", {1, 2});
  r.set_trajectory_every(2);  // steps 0, 2, 4 of 5
  r.set_scatter_plot(true);
  const Streamed s = Sample(r);
  ASSERT_TRUE(s.status.ok()) << s.status.error_message();
  std::vector<int> frame_steps;
  const pb::ImageDone* plot = nullptr;
  for (const auto& d : s.done) {
    if (d.item().kind() == pb::SAMPLE_ITEM_KIND_TRAJECTORY_FRAME) {
      frame_steps.push_back(d.item().step());
      const auto* xy =
          reinterpret_cast<const float*>(ItemBytes(s, d.item()).data());
      EXPECT_EQ(xy[1], FakeValue(1, 1, d.item().step()));
    }
    if (d.item().kind() == pb::SAMPLE_ITEM_KIND_SCATTER_PLOT) plot = &d;
  }
  EXPECT_THAT(frame_steps, ElementsAre(0, 2, 4));
  ASSERT_NE(plot, nullptr);
  EXPECT_EQ(plot->item().count(), 2);
  auto image = image::DecodePng(ItemBytes(s, plot->item()));
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_EQ(image->width, 512);
  EXPECT_EQ(image->channels, 3);
  // The plot comes after every sample, right before the summary.
  EXPECT_TRUE(s.events[s.events.size() - 2].has_image_done());
  EXPECT_EQ(s.events[s.events.size() - 2].image_done().item().kind(),
            pb::SAMPLE_ITEM_KIND_SCATTER_PLOT);
}

TEST_F(SamplingTest, BadRequestsNameTheFieldAndValue) {
  StartServer();
  UploadModel("toy", "toy-2d");
  UploadModel("digits", "mnist");
  struct Case {
    std::function<void(pb::SampleRequest&)> edit;
    grpc::StatusCode code;
    std::string text;
  };
  const std::vector<Case> cases = {
      {[](auto& r) { r.set_model_ref("nope@latest"); },
       grpc::StatusCode::NOT_FOUND, "nope"},
      {[](auto& r) { r.set_model_ref("toy/99"); }, grpc::StatusCode::NOT_FOUND,
       "toy/99"},
      {[](auto& r) { r.set_model_ref("bad ref!"); },
       grpc::StatusCode::INVALID_ARGUMENT, "sample.model_ref"},
      {[](auto& r) {
         r.clear_seeds();
         r.set_num_samples(65);
       },
       grpc::StatusCode::INVALID_ARGUMENT,
       "sample.num_samples must be in [1, 64] (server --max_samples), got 65"},
      {[](auto& r) {
         r.clear_seeds();
         r.set_num_samples(0);
       },
       grpc::StatusCode::INVALID_ARGUMENT, "sample.num_samples"},
      {[](auto& r) { r.set_num_samples(3); },
       grpc::StatusCode::INVALID_ARGUMENT, "number of seeds (1), got 3"},
      {[](auto& r) { r.set_steps(51); }, grpc::StatusCode::INVALID_ARGUMENT,
       "sample.steps must be in [1, 50] (server --max_steps), got 51"},
      {[](auto& r) { r.set_steps(-1); }, grpc::StatusCode::INVALID_ARGUMENT,
       "sample.steps"},
      {[](auto& r) { r.set_dt(0.3); }, grpc::StatusCode::INVALID_ARGUMENT,
       "sample.dt must divide the model's horizon 1 into whole steps, got 0.3"},
      {[](auto& r) { r.set_dt(0.001); }, grpc::StatusCode::INVALID_ARGUMENT,
       "--max_steps"},
      {[](auto& r) {
         r.set_dt(0.5);
         r.set_steps(2);
       },
       grpc::StatusCode::INVALID_ARGUMENT, "exclusive"},
      {[](auto& r) { r.set_trajectory_every(1); },
       grpc::StatusCode::INVALID_ARGUMENT,
       "gives 5 frames over 5 steps; at most 4 (server "
       "--max_trajectory_frames)"},
      {[](auto& r) { r.set_encoding(pb::SAMPLE_ENCODING_PNG); },
       grpc::StatusCode::INVALID_ARGUMENT, "sample.encoding"},
      {[](auto& r) { r.set_encoding(static_cast<pb::SampleEncoding>(9)); },
       grpc::StatusCode::INVALID_ARGUMENT, "got 9"},
      {[](auto& r) { r.set_solver(static_cast<pb::Solver>(42)); },
       grpc::StatusCode::INVALID_ARGUMENT, "sample.solver"},
      {[](auto& r) {
         r.set_model_ref("digits@latest");
         r.set_scatter_plot(true);
       },
       grpc::StatusCode::INVALID_ARGUMENT, "image model"},
      {[](auto& r) { r.set_request_id(std::string(129, 'x')); },
       grpc::StatusCode::INVALID_ARGUMENT, "sample.request_id"},
  };
  for (const Case& c : cases) {
    pb::SampleRequest r = Request("toy@latest", {1});
    c.edit(r);
    const Streamed s = Sample(r);
    EXPECT_EQ(s.status.error_code(), c.code)
        << c.text << ": " << s.status.error_message();
    EXPECT_THAT(s.status.error_message(), HasSubstr(c.text));
    EXPECT_TRUE(s.events.empty()) << c.text;
  }
  EXPECT_EQ(server_->sampler().counters().active, 0);
}

TEST_F(SamplingTest, ABrokenCheckpointFileIsDataLossNotAModel) {
  StartServer();
  const pb::Checkpoint toy = UploadModel("toy", "toy-2d");
  std::filesystem::resize_file(BlobPath(toy.files(0).sha256()), 5);
  const Streamed s = Sample(Request("toy@latest", {1}));
  EXPECT_EQ(s.status.error_code(), grpc::StatusCode::DATA_LOSS)
      << s.status.error_message();
  EXPECT_EQ(sampling_backend_.loads(), 0);
}

}  // namespace
}  // namespace proxflow::server::testing
