// Server limits on what one training job may ask for (server/job_limits.h):
// parameter counts by hand, the published presets within the defaults, and
// each breach INVALID_ARGUMENT over RPC naming the field and the flag.
#include "server/job_limits.h"

#include "core/network_size.h"
#include "core/options_resolver.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server/server_fixture.h"

namespace proxflow::server::testing {
namespace {

using ::testing::HasSubstr;

core::TrainOptions Resolve(const pb::TrainingConfig& c) {
  auto o = core::ResolveTrainOptions(c);
  EXPECT_TRUE(o.ok()) << o.status();
  return *o;
}

TEST(JobLimits, CountsParametersLikeTheNetworks) {
  // toy-2d potential: MLP 5×48 on (x, t) ∈ R³ → 1.
  core::NetworkOptions mlp{core::Architecture::kMlp, 5, 48,
                           core::Activation::kTanh};
  EXPECT_EQ(core::NetworkParameters(mlp, 3, 1), 4 * 48 + 4 * 49 * 48 + 49);
  // mnist potential: conv trunk (392 + 3136 weights, no biases) + 3×512 on
  // 392 features + t.
  core::NetworkOptions conv{core::Architecture::kConv, 3, 512,
                            core::Activation::kRelu};
  EXPECT_EQ(core::NetworkParameters(conv, 785, 1),
            3528 + 394 * 512 + 2 * 513 * 512 + 513);
}

TEST(JobLimits, PublishedPresetsFitTheDefaults) {
  for (const char* preset :
       {"toy-2d", "manifold-7d", "manifold-12d", "mnist", "mnist-paper"}) {
    pb::TrainingConfig c;
    c.set_preset(preset);
    const absl::Status s = CheckJobLimits(Resolve(c), JobLimits());
    EXPECT_TRUE(s.ok()) << preset << ": " << s;
  }
}

class JobLimitsServerTest : public ServerFixture {};

TEST_F(JobLimitsServerTest, EachBreachIsInvalidArgumentNamingFieldAndFlag) {
  StartServer();
  struct Case {
    std::string field, flag;
    std::function<void(pb::TrainingConfig&)> edit;
  };
  const std::vector<Case> cases = {
      {"generator.network.width", "--max_network_parameters=50000000",
       [](pb::TrainingConfig& c) {
         c.mutable_generator()->mutable_network()->set_width(8192);
         c.mutable_generator()->mutable_network()->set_depth(64);
       }},
      {"batch_size = 10000", "--max_batch_size=8192",
       [](pb::TrainingConfig& c) { c.set_batch_size(10000); }},
      {"eval_batch_size = 20000", "--max_batch_size=8192",
       [](pb::TrainingConfig& c) { c.set_eval_batch_size(20000); }},
      {"source.pool_size", "--max_pool_bytes=1073741824",
       [](pb::TrainingConfig& c) {
         c.set_preset("mnist");  // 784 floats a row (limits come first)
         c.mutable_source()->set_pool_size(1000000);
       }},
      {"flow.steps", "--max_activation_elements=268435456",
       [](pb::TrainingConfig& c) {
         c.set_batch_size(1024);
         c.set_eval_batch_size(1024);
         c.mutable_flow()->set_dt(0.0005);  // 2000 steps
       }},
  };
  for (const Case& k : cases) {
    pb::TrainingConfig c = ToyConfig();
    k.edit(c);
    for (bool validate_only : {true, false}) {
      const grpc::Status s = Submit(c, nullptr, "", validate_only);
      EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
          << k.field << ": " << s.error_message();
      EXPECT_THAT(s.error_message(), HasSubstr(k.field));
      EXPECT_THAT(s.error_message(), HasSubstr(k.flag));
    }
  }
  // Nothing was queued.
  pb::Job job;
  EXPECT_TRUE(Submit(ToyConfig(), &job).ok());
  EXPECT_EQ(job.id().size(), 36u);
}

}  // namespace
}  // namespace proxflow::server::testing
