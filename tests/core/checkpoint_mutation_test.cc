// A bounded, seeded mutation run over every checkpoint loader in the normal
// build (CI runs it; libFuzzer's coverage-guided fuzz_checkpoint needs a clang
// build CI cannot afford): bit flips and truncations of the file, data changes
// with a recomputed SHA-256, and header edits that keep the file well formed —
// tensor shapes, offsets, sizes and dtypes, and config fields (network sizes,
// dimension, form). Every result must be OK or INVALID_ARGUMENT; a crash,
// INTERNAL (an exception LibTorch threw on an unchecked path) or a huge
// allocation fails the run.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <random>
#include <string>

#include "core/base/sha256.h"
#include "core/checkpoint_file.h"
#include "core/flow_model.h"
#include "core/options_resolver.h"
#include "core/trainer.h"

namespace proxflow::core {
namespace {

namespace pb = ::proxflow::v1;

std::string Assemble(const pb::CheckpointHeader& h, const std::string& data) {
  return AssembleCheckpointFile(h, data);
}

TEST(CheckpointMutation, EveryLoaderAnswersOkOrInvalidArgument) {
  pb::TrainingConfig c;
  c.set_iterations(2);
  c.set_batch_size(32);
  c.set_seed(5);
  c.mutable_dataset()->set_pool_size(500);
  c.mutable_source()->set_pool_size(500);
  c.set_eval_interval(0);
  c.set_eval_batch_size(64);
  auto options = ResolveTrainOptions(c);
  ASSERT_TRUE(options.ok());
  auto trainer = Trainer::Create(*options, {"cpu", ""});
  ASSERT_TRUE(trainer.ok());
  ASSERT_TRUE((*trainer)->Step().ok());
  const auto good = (*trainer)->SerializeCheckpoint();
  ASSERT_TRUE(good.ok());
  auto parsed = ParseCheckpointFile(*good);
  ASSERT_TRUE(parsed.ok());
  const pb::CheckpointHeader header = parsed->header;
  uint64_t header_size = 0;
  std::memcpy(&header_size, good->data() + 16, 8);
  const size_t data_start = (24 + header_size + 63) / 64 * 64;
  const std::string data = good->substr(data_start);

  std::mt19937_64 rng(20261123);
  const auto pick = [&](uint64_t n) { return n == 0 ? 0 : rng() % n; };
  std::map<std::string, int> outcomes;
  constexpr int kRuns = 5000;
  for (int run = 0; run < kRuns; ++run) {
    std::string bytes;
    switch (run % 5) {
      case 0: {  // bit flips anywhere
        bytes = *good;
        for (int k = 0, n = 1 + static_cast<int>(pick(4)); k < n; ++k)
          bytes[pick(bytes.size())] ^= static_cast<char>(1 << pick(8));
        break;
      }
      case 1:  // truncation
        bytes = good->substr(0, pick(good->size()));
        break;
      case 2: {  // data bytes changed, SHA-256 recomputed
        std::string d = data;
        for (int k = 0, n = 1 + static_cast<int>(pick(16)); k < n; ++k)
          d[pick(d.size())] = static_cast<char>(rng());
        pb::CheckpointHeader h = header;
        h.set_data_sha256(Sha256Hex(d));
        bytes = Assemble(h, d);
        break;
      }
      case 3: {  // one tensor entry edited
        pb::CheckpointHeader h = header;
        pb::TensorEntry& e =
            *h.mutable_tensors(static_cast<int>(pick(h.tensors_size())));
        const int64_t values[] = {0,
                                  1,
                                  -1,
                                  7,
                                  48,
                                  1 << 20,
                                  int64_t{1} << 40,
                                  static_cast<int64_t>(rng())};
        const int64_t v = values[pick(8)];
        switch (pick(5)) {
          case 0:
            if (e.shape_size() > 0)
              e.set_shape(static_cast<int>(pick(e.shape_size())), v);
            break;
          case 1:
            e.add_shape(v);
            break;
          case 2:
            e.set_offset(static_cast<uint64_t>(v));
            break;
          case 3:
            e.set_size(static_cast<uint64_t>(v));
            break;
          case 4:
            e.set_dtype(static_cast<pb::TensorDType>(pick(7)));
            break;
        }
        bytes = Assemble(h, data);
        break;
      }
      case 4: {  // the stored config edited
        pb::CheckpointHeader h = header;
        pb::TrainingConfig& cfg = *h.mutable_config();
        const int v = static_cast<int>(pick(3)) == 0
                          ? static_cast<int>(rng() % 100000)
                          : 1 + static_cast<int>(pick(64));
        switch (pick(6)) {
          case 0:
            cfg.mutable_generator()->mutable_network()->set_width(v);
            break;
          case 1:
            cfg.mutable_generator()->mutable_network()->set_depth(v);
            break;
          case 2:
            cfg.mutable_critic()->mutable_network()->set_width(v);
            break;
          case 3:
            cfg.mutable_dataset()->set_dimension(v);
            break;
          case 4:
            cfg.mutable_generator()->set_form(
                static_cast<pb::GeneratorForm>(pick(3)));
            break;
          case 5:
            cfg.mutable_generator()->mutable_network()->set_architecture(
                static_cast<pb::Architecture>(pick(3)));
            break;
        }
        bytes = Assemble(h, data);
        break;
      }
    }
    const absl::Status model = FlowModel::Load(bytes, "cpu").status();
    const absl::Status inspect = InspectCheckpoint(bytes).status();
    const absl::Status resume =
        Trainer::FromCheckpoint(bytes, {"cpu", ""}).status();
    for (const absl::Status* s : {&model, &inspect, &resume}) {
      ASSERT_TRUE(s->ok() || s->code() == absl::StatusCode::kInvalidArgument)
          << "run " << run << " (kind " << run % 5 << "): " << *s;
    }
    outcomes[model.ok() ? "ok" : "invalid"]++;
  }
  // The run exercised both sides: untouched-enough files load, the rest are
  // refused.
  EXPECT_GT(outcomes["ok"], 50);
  EXPECT_GT(outcomes["invalid"], kRuns / 2);
  std::printf("%d mutated checkpoints: %d loaded, %d refused\n", kRuns,
              outcomes["ok"], outcomes["invalid"]);
}

TEST(CheckpointMutation, ASmallFileCannotClaimHugeNetworks) {
  // Before the size check this made every loader allocate 8192² × 64 floats
  // (17 GB) for a file of 200 kB.
  pb::TrainingConfig c;
  c.set_iterations(1);
  c.set_batch_size(16);
  c.mutable_dataset()->set_pool_size(100);
  c.set_eval_batch_size(16);
  auto options = ResolveTrainOptions(c);
  ASSERT_TRUE(options.ok());
  auto trainer = Trainer::Create(*options, {"cpu", ""});
  ASSERT_TRUE(trainer.ok());
  const auto good = (*trainer)->SerializeCheckpoint();
  ASSERT_TRUE(good.ok());
  auto parsed = ParseCheckpointFile(*good);
  ASSERT_TRUE(parsed.ok());
  pb::CheckpointHeader h = parsed->header;
  h.mutable_config()->mutable_generator()->mutable_network()->set_width(8192);
  h.mutable_config()->mutable_generator()->mutable_network()->set_depth(64);
  uint64_t header_size = 0;
  std::memcpy(&header_size, good->data() + 16, 8);
  const std::string bytes =
      Assemble(h, good->substr((24 + header_size + 63) / 64 * 64));
  const absl::Status s = FlowModel::Load(bytes, "cpu").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()),
              ::testing::HasSubstr("its config builds a generator of "));
}

}  // namespace
}  // namespace proxflow::core
