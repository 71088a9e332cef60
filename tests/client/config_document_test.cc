// ConfigDocument: YAML and JSON through the protobuf JSON mapping, with errors
// that name the line and the field.
#include "client/config_document.h"

#include <google/protobuf/util/message_differencer.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proxflow/v1/config.pb.h"

namespace proxflow::client {
namespace {

namespace pb = proxflow::v1;
using ::testing::HasSubstr;

constexpr char kYaml[] = R"(# a comment
preset: toy-2d
model: pinwheel
iterations: 3000
seed: 18446744073709551615
dataset:
  kind: DATASET_KIND_TOY
  toy: TOY_SHAPE_PINWHEEL
  mnist_labels: [3, 5]
critic:
  network:
    width: 128
  learning_rate: 0.001
flow:
  sampleSolver: SOLVER_HEUN
)";

constexpr char kJson[] = R"({
  "preset": "toy-2d",
  "model": "pinwheel",
  "iterations": "3000",
  "seed": 18446744073709551615,
  "dataset": {"kind": "DATASET_KIND_TOY", "toy": "TOY_SHAPE_PINWHEEL",
              "mnistLabels": [3, 5]},
  "critic": {"network": {"width": 128}, "learning_rate": 1e-3},
  "flow": {"sample_solver": "SOLVER_HEUN"}
})";

absl::StatusOr<pb::TrainingConfig> Convert(const char* name, const char* text) {
  auto doc = ConfigDocument::Parse(name, text);
  if (!doc.ok()) return doc.status();
  pb::TrainingConfig config;
  if (absl::Status s = doc->ToMessage(&config); !s.ok()) return s;
  return config;
}

std::string Error(const char* name, const char* text) {
  auto config = Convert(name, text);
  EXPECT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(config.status().message());
}

TEST(ConfigDocumentTest, YamlAndJsonGiveTheSameMessage) {
  auto from_yaml = Convert("job.yaml", kYaml);
  auto from_json = Convert("job.json", kJson);
  ASSERT_TRUE(from_yaml.ok()) << from_yaml.status();
  ASSERT_TRUE(from_json.ok()) << from_json.status();
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*from_yaml,
                                                                 *from_json))
      << from_yaml->DebugString() << "\nvs\n"
      << from_json->DebugString();
  EXPECT_EQ(from_yaml->model(), "pinwheel");
  EXPECT_EQ(from_yaml->iterations(), 3000);
  EXPECT_EQ(from_yaml->seed(), 18446744073709551615ull);  // exact above 2^53
  EXPECT_EQ(from_yaml->dataset().toy(), pb::TOY_SHAPE_PINWHEEL);
  EXPECT_THAT(from_yaml->dataset().mnist_labels(),
              ::testing::ElementsAre(3, 5));
  EXPECT_EQ(from_yaml->critic().network().width(), 128);
  EXPECT_DOUBLE_EQ(from_yaml->critic().learning_rate(), 0.001);
  EXPECT_EQ(from_yaml->flow().sample_solver(), pb::SOLVER_HEUN);
  // Unset optional fields stay unset (the preset fills them).
  EXPECT_FALSE(from_yaml->has_batch_size());
}

TEST(ConfigDocumentTest, SyntaxErrorsNameFileLineAndColumn) {
  EXPECT_THAT(
      Error("job.yaml", "model: a\niterations: [1\nseed: 2\n"),
      HasSubstr("job.yaml:3:5: syntax error"));  // where the parser stopped
  EXPECT_THAT(
      Error("job.json", "{\n  \"model\": \"a\"\n  \"seed\": 2\n}\n"),
      ::testing::AllOf(HasSubstr("job.json:3:"), HasSubstr("syntax error")));
}

TEST(ConfigDocumentTest, UnknownFieldNamesLineFieldAndSuggestion) {
  const std::string e =
      Error("job.yaml", "model: a\ncritic:\n  network:\n    widht: 4\n");
  EXPECT_THAT(
      e, HasSubstr("job.yaml:4: unknown field \"widht\" in critic.network"));
  EXPECT_THAT(e, HasSubstr("did you mean \"width\"?"));
}

TEST(ConfigDocumentTest, TypeErrorsNameLineAndField) {
  EXPECT_THAT(
      Error("a.yaml", "model: a\niterations: lots\n"),
      HasSubstr(
          "a.yaml:2: iterations must be an integer (int64), got \"lots\""));
  EXPECT_THAT(Error("a.yaml", "batch_size: 3000000000\n"),
              HasSubstr("a.yaml:1: batch_size must be an integer (int32)"));
  EXPECT_THAT(Error("a.yaml", "seed: -1\n"),
              HasSubstr("a.yaml:1: seed must be a non-negative integer"));
  EXPECT_THAT(
      Error("a.yaml", "flow:\n  horizon: [1]\n"),
      HasSubstr("a.yaml:2: flow.horizon must be a single double, got a list"));
  EXPECT_THAT(
      Error("a.yaml", "critic: 3\n"),
      HasSubstr("critic must be a mapping of proxflow.v1.CriticConfig fields"));
  const std::string e =
      Error("a.yaml", "\n\nflow:\n  sample_solver: SOLVER_HUEN\n");
  EXPECT_THAT(
      e, HasSubstr("a.yaml:4: flow.sample_solver must be one of SOLVER_EULER"));
  EXPECT_THAT(e, HasSubstr("did you mean \"SOLVER_HEUN\"?"));
  EXPECT_THAT(Error("a.yaml", "dataset:\n  mnist_labels: 3\n"),
              HasSubstr("a.yaml:2: dataset.mnist_labels must be a list"));
}

TEST(ConfigDocumentTest, AFieldGivenTwiceIsAnError) {
  EXPECT_THAT(
      Error("a.yaml", "model: a\nseed: 1\nmodel: b\n"),
      HasSubstr("a.yaml:3: field model is given twice (first on line 1)"));
}

TEST(ConfigDocumentTest, SetOverridesAndCreatesFieldsByPath) {
  auto doc = ConfigDocument::Parse("job.yaml", kYaml);
  ASSERT_TRUE(doc.ok());
  ASSERT_TRUE(doc->Set("critic.network.width=256").ok());
  ASSERT_TRUE(doc->Set("generator.network.depth=2").ok());     // a new mapping
  ASSERT_TRUE(doc->Set("flow.sampleSolver=SOLVER_RK4").ok());  // JSON name
  ASSERT_TRUE(doc->Set("dataset.mnist_labels=[1, 2, 3]").ok());
  pb::TrainingConfig config;
  ASSERT_TRUE(doc->ToMessage(&config).ok());
  EXPECT_EQ(config.critic().network().width(), 256);
  EXPECT_EQ(config.generator().network().depth(), 2);
  EXPECT_EQ(config.flow().sample_solver(), pb::SOLVER_RK4);
  EXPECT_THAT(config.dataset().mnist_labels(), ::testing::ElementsAre(1, 2, 3));
  EXPECT_EQ(config.model(), "pinwheel");  // untouched fields stay
  EXPECT_EQ(doc->Locate("critic.network.width"),
            "--set critic.network.width=256");
  EXPECT_EQ(doc->Locate("model"), "job.yaml:3");
}

TEST(ConfigDocumentTest, BadAssignmentsAreRejected) {
  ConfigDocument doc;
  EXPECT_THAT(doc.Set("no_equals_sign").message(),
              HasSubstr("path.to.field=value"));
  EXPECT_THAT(doc.Set("=3").message(), HasSubstr("path.to.field=value"));
  ASSERT_TRUE(doc.Set("model=a").ok());
  EXPECT_THAT(doc.Set("model.name=b").message(),
              HasSubstr("model is a value, not a mapping"));
  ASSERT_TRUE(doc.Set("batch_size=big").ok());  // checked on conversion:
  pb::TrainingConfig config;
  EXPECT_THAT(doc.ToMessage(&config).message(),
              HasSubstr("--set batch_size=big: batch_size must be an integer"));
}

TEST(ConfigDocumentTest, AnnotatePointsServerErrorsAtTheLine) {
  auto doc = ConfigDocument::Parse("job.yaml", kYaml);
  ASSERT_TRUE(doc.ok());
  const absl::Status server = absl::InvalidArgumentError(
      "training.critic.network.width must be in [1, 8192], got 0");
  EXPECT_EQ(
      doc->Annotate(server).message(),
      "job.yaml:12: training.critic.network.width must be in [1, 8192], got 0");
  EXPECT_EQ(doc->Annotate(server).code(), absl::StatusCode::kInvalidArgument);
  // A field the document does not set (the preset's) stays as it is.
  const absl::Status other = absl::InvalidArgumentError(
      "training.batch_size must be in [1, 65536], got 0");
  EXPECT_EQ(doc->Annotate(other), other);
}

TEST(ConfigDocumentTest, EmptyDocumentIsAnEmptyMessage) {
  auto config = Convert("empty.yaml", "# nothing\n");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->ByteSizeLong(), 0u);
  EXPECT_THAT(Error("list.yaml", "- 1\n- 2\n"),
              HasSubstr("list.yaml:1: the config must be a mapping"));
}

}  // namespace
}  // namespace proxflow::client
