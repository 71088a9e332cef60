// Sampling under concurrency: micro-batching, slices of large requests,
// cancellation and deadlines mid-integration, a full queue, a client that
// does not read, the model cache and shutdown. Steps are held with the fake
// backend's gate, so every interleaving here is forced, not timed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "proto/rpc/retry_info.h"
#include "proto/rpc/status_conversion.h"
#include "tests/server/sampling_fixture.h"

namespace proxflow::server::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A Sample call read on its own thread.
class BackgroundSample {
 public:
  BackgroundSample(pb::SamplingService::Stub* stub, pb::SampleRequest request,
                   absl::Duration deadline = absl::Seconds(60)) {
    context_.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
    thread_ = std::thread([this, stub, request] {
      auto reader = stub->Sample(&context_, request);
      result_ = SamplingTest::Read(*reader);
    });
  }
  ~BackgroundSample() { Join(); }
  void Cancel() { context_.TryCancel(); }
  const SamplingTest::Streamed& Join() {
    if (thread_.joinable()) thread_.join();
    return result_;
  }

 private:
  grpc::ClientContext context_;
  std::thread thread_;
  SamplingTest::Streamed result_;
};

class SamplingEngineTest : public SamplingTest {
 protected:
  // Waits until the engine counts `queued` waiting requests.
  bool AwaitQueued(int queued) {
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (absl::Now() < deadline) {
      if (server_->sampler().counters().queued == queued) return true;
      absl::SleepFor(absl::Milliseconds(1));  // polls a state
    }
    return false;
  }
  // Waits until the engine has seen `n` stream cancellations (the client's
  // cancel reaches the server asynchronously).
  bool AwaitCancelsSeen(int64_t n) {
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (absl::Now() < deadline) {
      if (server_->sampler().counters().cancels_seen >= n) return true;
      absl::SleepFor(absl::Milliseconds(1));  // polls a state
    }
    return false;
  }
  static absl::Time Soon() { return absl::Now() + absl::Seconds(30); }

  // Two requests queued behind a one-step blocker share a batch; the one
  // queued first (`cancel_first`) or second is cancelled before step 2 and
  // its client goes away; the other finishes with its own values.
  void CancelOneOfABatchOfTwo(bool cancel_first) {
    StartServer();
    UploadModel("toy", "toy-2d");
    sampling_backend_.HoldStepsAfter(0);
    pb::SampleRequest one_step = Request("toy@latest", {9});
    one_step.set_steps(1);
    BackgroundSample blocker(sampling_.get(), one_step);
    ASSERT_TRUE(sampling_backend_.AwaitHeld(Soon(), 1));
    std::unique_ptr<BackgroundSample> keep, drop;
    for (const bool first : {true, false}) {
      const bool dropped = first == cancel_first;
      (dropped ? drop : keep) = std::make_unique<BackgroundSample>(
          sampling_.get(),
          Request("toy@latest", dropped ? std::vector<uint64_t>{3, 4}
                                        : std::vector<uint64_t>{1, 2}));
      ASSERT_TRUE(AwaitQueued(first ? 1 : 2));
    }
    // The blocker's one step passes; the shared batch waits before step 2.
    sampling_backend_.HoldStepsAfter(1);
    ASSERT_TRUE(blocker.Join().status.ok());
    ASSERT_TRUE(sampling_backend_.AwaitHeld(Soon(), 2));
    drop->Cancel();
    EXPECT_EQ(drop->Join().status.error_code(), grpc::StatusCode::CANCELLED);
    drop.reset();  // the client side of the cancelled call is gone too
    ASSERT_TRUE(AwaitCancelsSeen(1));
    sampling_backend_.ReleaseSteps();
    const Streamed& k = keep->Join();
    ASSERT_TRUE(k.status.ok()) << k.status.error_message();
    EXPECT_EQ(k.summary.batch_size(), 4);
    ASSERT_TRUE(AwaitEngineIdle());
    EXPECT_EQ(sampling_backend_.steps(), 1 + 5);  // blocker, then the batch
    const auto* xy =
        reinterpret_cast<const float*>(ItemBytes(k, k.done[0].item()).data());
    EXPECT_EQ(xy[2], FakeValue(2, 0, 5));
  }
};

TEST_F(SamplingEngineTest, ConcurrentCompatibleRequestsShareABatch) {
  StartServer();
  UploadModel("toy", "toy-2d");
  sampling_backend_.HoldStepsAfter(0);  // the first batch waits at step 1
  BackgroundSample first(sampling_.get(), Request("toy@latest", {1, 2}));
  ASSERT_TRUE(sampling_backend_.AwaitHeld(Soon()));
  // Queued behind it: two compatible requests and one with other steps.
  BackgroundSample a(sampling_.get(), Request("toy@latest", {3, 4}));
  ASSERT_TRUE(AwaitQueued(1));
  BackgroundSample b(sampling_.get(), Request("toy@latest", {5, 6, 7}));
  ASSERT_TRUE(AwaitQueued(2));
  pb::SampleRequest other = Request("toy@latest", {8});
  other.set_steps(3);
  BackgroundSample c(sampling_.get(), other);
  ASSERT_TRUE(AwaitQueued(3));
  sampling_backend_.ReleaseSteps();
  ASSERT_TRUE(first.Join().status.ok());
  const Streamed& ra = a.Join();
  const Streamed& rb = b.Join();
  ASSERT_TRUE(ra.status.ok() && rb.status.ok() && c.Join().status.ok());
  EXPECT_THAT(sampling_backend_.batch_rows(), ElementsAre(2, 5, 1));
  EXPECT_EQ(ra.summary.batch_size(), 5);
  EXPECT_EQ(rb.summary.batch_size(), 5);
  EXPECT_EQ(c.Join().summary.batch_size(), 1);
  EXPECT_EQ(ra.accepted.queue_position(), 0);
  EXPECT_EQ(rb.accepted.queue_position(), 1);
  // Each request got exactly its own rows.
  const auto* xy =
      reinterpret_cast<const float*>(ItemBytes(rb, rb.done[0].item()).data());
  EXPECT_EQ(xy[0], FakeValue(5, 0, 5));
  EXPECT_EQ(xy[4], FakeValue(7, 0, 5));
}

TEST_F(SamplingEngineTest, LargeRequestsRunInSlicesWithTheSameBytes) {
  options_.sampling.max_batch = 4;
  StartServer();
  UploadModel("toy", "toy-2d");
  std::vector<uint64_t> seeds;
  for (uint64_t s = 100; s < 110; ++s) seeds.push_back(s);
  const Streamed s = Sample(Request("toy@latest", seeds));
  ASSERT_TRUE(s.status.ok());
  EXPECT_THAT(sampling_backend_.batch_rows(), ElementsAre(4, 4, 2));
  EXPECT_EQ(s.summary.batches(), 3);
  ASSERT_EQ(s.done.size(), 3u);
  std::string joined;
  std::vector<int> starts;
  for (const auto& d : s.done) starts.push_back(d.item().index());
  EXPECT_THAT(starts, ElementsAre(0, 4, 8));
  for (const auto& d : s.done) joined += ItemBytes(s, d.item());
  for (size_t i = 0; i < seeds.size(); ++i) {
    const auto* xy = reinterpret_cast<const float*>(joined.data()) + 2 * i;
    EXPECT_EQ(xy[1], FakeValue(seeds[i], 1, 5)) << i;
  }
}

TEST_F(SamplingEngineTest, CancellingStopsTheIntegrationWithinOneStep) {
  StartServer();
  UploadModel("toy", "toy-2d");
  sampling_backend_.HoldStepsAfter(1);  // step 2 waits
  pb::SampleRequest r = Request("toy@latest", {1, 2});
  r.set_steps(40);
  BackgroundSample call(sampling_.get(), r);
  ASSERT_TRUE(sampling_backend_.AwaitHeld(Soon()));
  call.Cancel();
  const Streamed& s = call.Join();
  EXPECT_EQ(s.status.error_code(), grpc::StatusCode::CANCELLED);
  ASSERT_TRUE(AwaitCancelsSeen(1));
  sampling_backend_.ReleaseSteps();  // step 2 finishes; step 3 never starts
  ASSERT_TRUE(AwaitEngineIdle());
  EXPECT_EQ(sampling_backend_.steps(), 2);
  EXPECT_EQ(server_->sampler().counters().cancelled, 1);
  // The engine is free for the next request.
  const Streamed next = Sample(Request("toy@latest", {3}));
  EXPECT_TRUE(next.status.ok());
}

TEST_F(SamplingEngineTest, CancellingOneRequestLeavesItsBatchMatesIntact) {
  CancelOneOfABatchOfTwo(/*cancel_first=*/false);
}

// The load test's finding: the batch kept a reference to its first request's
// plan; cancelling that request freed it mid-batch (use after free: the
// step loop then read a garbage step count and failed INTERNAL "all 5 steps
// are done"). ASan in scripts/sanitize reports the old code here.
TEST_F(SamplingEngineTest,
       CancellingTheFirstRequestOfABatchLeavesTheRestIntact) {
  CancelOneOfABatchOfTwo(/*cancel_first=*/true);
}

TEST_F(SamplingEngineTest, ADeadlineEndsTheRequestAndFreesItsSlot) {
  StartServer();
  UploadModel("toy", "toy-2d");
  sampling_backend_.HoldStepsAfter(1);
  pb::SampleRequest r = Request("toy@latest", {1});
  r.set_steps(40);
  // The held step outlasts any deadline; 1 s is not a timing assumption.
  BackgroundSample call(sampling_.get(), r, absl::Seconds(1));
  const Streamed& s = call.Join();
  EXPECT_EQ(s.status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  ASSERT_TRUE(AwaitCancelsSeen(1));
  sampling_backend_.ReleaseSteps();
  ASSERT_TRUE(AwaitEngineIdle());
  // At most the held step ran (fewer if the deadline came first).
  EXPECT_LE(sampling_backend_.steps(), 2);
  EXPECT_EQ(server_->sampler().counters().cancelled, 1);
}

TEST_F(SamplingEngineTest, AFullQueueIsResourceExhaustedWithARetryHint) {
  options_.sampling.max_queued = 1;
  StartServer();
  UploadModel("toy", "toy-2d");
  sampling_backend_.HoldStepsAfter(0);
  BackgroundSample running(sampling_.get(), Request("toy@latest", {1}));
  ASSERT_TRUE(sampling_backend_.AwaitHeld(Soon()));
  pb::SampleRequest other = Request("toy@latest", {2});
  other.set_steps(3);  // not batchable with the running one
  BackgroundSample waiting(sampling_.get(), other);
  ASSERT_TRUE(AwaitQueued(1));
  const Streamed full = Sample(Request("toy@latest", {3}));
  EXPECT_EQ(full.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(full.status.error_message(), HasSubstr("--sample_max_queued 1"));
  std::optional<absl::Duration> delay =
      rpc::RetryDelay(rpc::FromGrpcStatus(full.status));
  ASSERT_TRUE(delay.has_value());
  EXPECT_GE(*delay, absl::Milliseconds(100));
  // Cancelling the waiting request frees its place at once.
  waiting.Cancel();
  EXPECT_EQ(waiting.Join().status.error_code(), grpc::StatusCode::CANCELLED);
  ASSERT_TRUE(AwaitQueued(0));  // ended while the worker is still held
  BackgroundSample admitted(sampling_.get(), Request("toy@latest", {4}));
  sampling_backend_.ReleaseSteps();
  EXPECT_TRUE(running.Join().status.ok());
  EXPECT_TRUE(admitted.Join().status.ok())
      << admitted.Join().status.error_message();
}

TEST_F(SamplingEngineTest, ListLoadedModelsShowsTheCacheMostRecentFirst) {
  options_.sampling.cache_bytes = 2000;  // two fake models of 1000 bytes
  StartServer();
  const pb::Checkpoint a = UploadModel("a", "toy-2d");
  const pb::Checkpoint b = UploadModel("b", "toy-2d");
  const pb::Checkpoint c = UploadModel("c", "toy-2d");
  ASSERT_TRUE(Sample(Request("a@latest", {1, 2})).status.ok());
  ASSERT_TRUE(Sample(Request("b@latest", {1})).status.ok());
  ASSERT_TRUE(Sample(Request("a@latest", {1})).status.ok());
  ASSERT_TRUE(Sample(Request("c@latest", {1})).status.ok());  // evicts b
  grpc::ClientContext context;
  pb::ListLoadedModelsResponse models;
  ASSERT_TRUE(sampling_->ListLoadedModels(&context, {}, &models).ok());
  ASSERT_EQ(models.models_size(), 2);
  EXPECT_EQ(models.models(0).checkpoint_uuid(), c.uuid());
  EXPECT_EQ(models.models(1).checkpoint_uuid(), a.uuid());
  EXPECT_EQ(models.models(1).requests(), 2);
  EXPECT_EQ(models.models(1).samples(), 3);
  EXPECT_EQ(models.models(1).model(), "a");
  EXPECT_EQ(models.models(1).device(), "cpu");
  EXPECT_EQ(models.cache_bytes(), 2000);
  EXPECT_EQ(models.cache_capacity_bytes(), 2000);
  EXPECT_EQ(sampling_backend_.loads(), 3);
}

TEST_F(SamplingEngineTest, ShutdownFinishesRunningRequestsAndRefusesNewOnes) {
  StartServer();
  UploadModel("toy", "toy-2d");
  sampling_backend_.HoldStepsAfter(0);
  BackgroundSample running(sampling_.get(), Request("toy@latest", {1}));
  ASSERT_TRUE(sampling_backend_.AwaitHeld(Soon()));
  std::thread stopper([&] { server_->Shutdown(absl::Seconds(30)); });
  // Once the engine stops accepting (and before it waits for the running
  // request), new requests are refused.
  const absl::Time deadline = Soon();
  while (server_->sampler().counters().accepting && absl::Now() < deadline)
    absl::SleepFor(absl::Milliseconds(1));  // polls a state
  const Streamed refused = Sample(Request("toy@latest", {2}));
  EXPECT_EQ(refused.status.error_code(), grpc::StatusCode::UNAVAILABLE)
      << refused.status.error_message();
  sampling_backend_.ReleaseSteps();
  stopper.join();
  const Streamed& s = running.Join();
  EXPECT_TRUE(s.status.ok()) << s.status.error_message();
  EXPECT_EQ(s.done.size(), 1u);
}

}  // namespace
}  // namespace proxflow::server::testing
