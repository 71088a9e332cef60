// Every invalid config is INVALID_ARGUMENT over RPC, naming the field.
#include <functional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server/server_fixture.h"

namespace proxflow::server::testing {
namespace {

struct Case {
  std::string field;  // must appear in the message
  std::function<void(pb::TrainingConfig&)> edit;
};

std::vector<Case> Cases() {
  using C = pb::TrainingConfig;
  return {
      {"preset", [](C& c) { c.set_preset("toy-3d"); }},
      {"model", [](C& c) { c.set_model("has space"); }},
      {"model", [](C& c) { c.set_model(std::string(129, 'a')); }},
      {"iterations", [](C& c) { c.set_iterations(0); }},
      {"iterations", [](C& c) { c.set_iterations(-5); }},
      {"batch_size", [](C& c) { c.set_batch_size(-3); }},
      {"batch_size", [](C& c) { c.set_batch_size(70000); }},
      {"log_interval", [](C& c) { c.set_log_interval(0); }},
      {"eval_interval", [](C& c) { c.set_eval_interval(-1); }},
      {"eval_batch_size", [](C& c) { c.set_eval_batch_size(0); }},
      {"checkpoint_interval", [](C& c) { c.set_checkpoint_interval(-1); }},
      {"registry.keep_latest",
       [](C& c) { c.mutable_registry()->set_keep_latest(0); }},
      {"registry.keep_best",
       [](C& c) { c.mutable_registry()->set_keep_best(-1); }},
      {"registry.best_metric",
       [](C& c) { c.mutable_registry()->set_best_metric("Sinkhorn Loss"); }},
      {"registry.best_metric",
       [](C& c) { c.mutable_registry()->set_best_metric("no_such_metric"); }},
      {"registry.best_goal",
       [](C& c) {
         c.mutable_registry()->set_best_goal(static_cast<pb::MetricGoal>(9));
       }},
      {"init_from", [](C& c) { c.set_init_from("no such ref"); }},
      {"init_from", [](C& c) { c.set_init_from("nothing/1"); }},
      {"init_from", [](C& c) { c.set_init_from(std::string(301, 'a')); }},
      {"dataset.kind",
       [](C& c) {
         c.mutable_dataset()->set_kind(static_cast<pb::DatasetKind>(99));
       }},
      {"dataset.toy",
       [](C& c) {
         c.mutable_dataset()->set_toy(static_cast<pb::ToyShape>(42));
       }},
      {"dataset.dimension",
       [](C& c) { c.mutable_dataset()->set_dimension(1); }},
      {"dataset.pool_size",
       [](C& c) { c.mutable_dataset()->set_pool_size(10); }},
      {"dataset.mnist_dir",  // a server path: only --datasets_root names one
       [](C& c) {
         c.mutable_dataset()->set_kind(pb::DATASET_KIND_MNIST);
         c.mutable_dataset()->set_dimension(784);
         c.mutable_dataset()->set_mnist_dir("/etc");
       }},
      {"dataset.uploaded_name",
       [](C& c) {
         c.mutable_dataset()->set_kind(pb::DATASET_KIND_UPLOADED);
         c.mutable_dataset()->set_uploaded_name("../etc/passwd");
       }},
      {"dataset.uploaded_name",
       [](C& c) {
         c.mutable_dataset()->set_kind(pb::DATASET_KIND_UPLOADED);
         c.mutable_dataset()->set_uploaded_name("never-uploaded");
       }},
      {"source.kind",
       [](C& c) {
         c.mutable_source()->set_kind(static_cast<pb::SourceKind>(7));
       }},
      {"source.high",
       [](C& c) {
         c.mutable_source()->set_kind(pb::SOURCE_KIND_UNIFORM);
         c.mutable_source()->set_low(1);
         c.mutable_source()->set_high(0);
       }},
      {"generator.network.depth",
       [](C& c) { c.mutable_generator()->mutable_network()->set_depth(0); }},
      {"generator.network.width",
       [](C& c) { c.mutable_generator()->mutable_network()->set_width(-1); }},
      {"generator.learning_rate",
       [](C& c) { c.mutable_generator()->set_learning_rate(0); }},
      {"critic.lipschitz_constant",
       [](C& c) { c.mutable_critic()->set_lipschitz_constant(-1); }},
      {"critic.penalty_weight",
       [](C& c) { c.mutable_critic()->set_penalty_weight(-0.1); }},
      {"critic.steps_per_iteration",
       [](C& c) { c.mutable_critic()->set_steps_per_iteration(0); }},
      {"critic.learning_rate",
       [](C& c) { c.mutable_critic()->set_learning_rate(2); }},
      {"critic.alpha",
       [](C& c) {
         c.mutable_critic()->set_divergence(pb::DIVERGENCE_ALPHA);
         c.mutable_critic()->set_alpha(0.5);
       }},
      {"flow.horizon", [](C& c) { c.mutable_flow()->set_horizon(0); }},
      {"flow.dt", [](C& c) { c.mutable_flow()->set_dt(0.3); }},
      {"flow.lambda", [](C& c) { c.mutable_flow()->set_lambda(-1); }},
      {"flow.hjb_weight", [](C& c) { c.mutable_flow()->set_hjb_weight(-1); }},
      {"flow.loss_case",
       [](C& c) {
         c.mutable_flow()->set_loss_case(static_cast<pb::LossCase>(9));
       }},
      {"optimizer.beta1", [](C& c) { c.mutable_optimizer()->set_beta1(1); }},
      {"optimizer.beta2", [](C& c) { c.mutable_optimizer()->set_beta2(-0.5); }},
  };
}

class InvalidConfigTest : public ServerFixture {};

TEST_F(InvalidConfigTest, EachIsInvalidArgumentNamingTheField) {
  StartServer();
  const std::vector<Case> cases = Cases();
  ASSERT_GE(cases.size(), 25u);
  for (const Case& c : cases) {
    pb::TrainingConfig config = ToyConfig();
    c.edit(config);
    for (bool validate_only : {true, false}) {
      grpc::Status s = Submit(config, nullptr, "", validate_only);
      EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
          << c.field << ": " << s.error_message();
      EXPECT_THAT(s.error_message(), ::testing::HasSubstr(c.field))
          << s.error_message();
      EXPECT_THAT(s.error_message(), ::testing::HasSubstr("got"))
          << s.error_message();
    }
  }
  // Nothing was queued.
  grpc::ClientContext context;
  pb::ListJobsResponse list;
  ASSERT_TRUE(training_->ListJobs(&context, {}, &list).ok());
  EXPECT_EQ(list.jobs_size(), 0);
}

}  // namespace
}  // namespace proxflow::server::testing
