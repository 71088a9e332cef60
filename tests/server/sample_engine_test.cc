// SampleEngine without gRPC: a stream nobody reads holds back its request
// (bounded memory) while other requests are served, and resumes when read.
#include "server/sampling/sample_engine.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/random/random.h"
#include "tests/server/fake_sampling_backend.h"

namespace proxflow::server::testing {
namespace {

namespace pb = ::proxflow::v1;

pb::Checkpoint FakeCheckpoint(const std::string& uuid,
                              const std::string& preset) {
  pb::Checkpoint c;
  c.set_uuid(uuid);
  c.set_model("m");
  c.set_version(1);
  pb::TrainingConfig* config = c.mutable_lineage()->mutable_resolved_config();
  config->set_preset(preset);
  if (preset == "mnist") config->mutable_dataset()->set_mnist_dir("/mnist");
  return c;
}

SamplePlan Plan(const pb::Checkpoint& checkpoint, int samples) {
  pb::SampleRequest r;
  r.set_model_ref("m/1");
  r.set_num_samples(samples);
  r.set_encoding(pb::SAMPLE_ENCODING_FLOAT32);
  absl::BitGen gen;
  auto plan = PlanSample(r, checkpoint, SamplingLimits{}, gen);
  EXPECT_TRUE(plan.ok()) << plan.status();
  return *std::move(plan);
}

// Pops everything; true once the stream closed OK.
bool Drain(SampleStream& stream, int* items) {
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  pb::SampleEvent e;
  absl::Status status;
  while (absl::Now() < deadline) {
    switch (stream.Pop(&e, &status)) {
      case SampleStream::PopResult::kEvent:
        if (e.has_image_done()) ++*items;
        break;
      case SampleStream::PopResult::kEmpty:
        absl::SleepFor(absl::Milliseconds(1));  // polls a state
        break;
      case SampleStream::PopResult::kClosed:
        return status.ok();
    }
  }
  return false;
}

TEST(SampleEngine, AClientThatDoesNotReadIsHeldBackNotBuffered) {
  FakeSamplingBackend backend;
  SampleEngineOptions options;
  options.max_batch = 2;
  options.max_delay = absl::ZeroDuration();
  options.max_pending_bytes = 4096;  // one slice of two 784-float images
  const pb::Checkpoint digits = FakeCheckpoint("d", "mnist");
  const pb::Checkpoint toy = FakeCheckpoint("t", "toy-2d");
  auto engine = SampleEngine::Create(
      options, &backend,
      [](const pb::Checkpoint& c) -> absl::StatusOr<std::string> {
        return absl::StrCat("fake-ckpt:1\n",
                            c.lineage().resolved_config().SerializeAsString());
      });
  ASSERT_TRUE(engine.ok()) << engine.status();
  auto slow = std::make_shared<SampleStream>(nullptr);  // never read (yet)
  ASSERT_TRUE((*engine)->Submit(Plan(digits, 20), slow).ok());
  auto other = std::make_shared<SampleStream>(nullptr);
  ASSERT_TRUE((*engine)->Submit(Plan(toy, 1), other).ok());
  int other_items = 0;
  ASSERT_TRUE(Drain(*other, &other_items));
  EXPECT_EQ(other_items, 1);
  // The slow request ran one slice (2 of 20 images), then waited for its
  // reader while the other request was served.
  EXPECT_THAT(backend.batch_rows(), ::testing::ElementsAre(2, 1));
  EXPECT_LT(slow->pending_bytes(), 2 * options.max_pending_bytes);
  int slow_items = 0;
  ASSERT_TRUE(Drain(*slow, &slow_items));
  EXPECT_EQ(slow_items, 20);
  EXPECT_EQ(backend.batch_rows().size(), 11u);
}

}  // namespace
}  // namespace proxflow::server::testing
