// The reproduction report: how a run's divergence is classified and written to
// report.json and report.md.
#include "tools/lab/repro_report.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "core/base/file_util.h"
#include "tools/lab/repro_checks.h"

namespace proxflow::lab {
namespace {

RunRecord Record(const std::string& method, const std::string& outcome,
                 int64_t completed, int64_t blowup, int64_t sustained = -2) {
  RunRecord r;
  r.method = method;
  r.dataset = "pinwheel";
  r.dimension = 12;
  r.iterations_requested = 25000;
  r.iterations_completed = completed;
  r.outcome = outcome;
  r.blowup_iteration = blowup;
  // Default: a blow-up that lasted from its first crossing to the end.
  r.sustained_blowup_iteration = sustained == -2 ? blowup : sustained;
  r.sinkhorn = 8.6e-3;
  r.kinetic_energy = 1.08;
  r.path_kinetic_energy = 6.1;
  if (method == "w1w2") {
    r.step_speed = {3.5, 2.25};
    r.step_turn_degrees = {12.5};
  }
  return r;
}

TEST(RunRecord, DivergesOnANonFiniteLossOrACriticBlowUpWhicheverCameFirst) {
  EXPECT_FALSE(Record("w1w2", "completed", 25000, -1).Diverged());
  EXPECT_EQ(Record("w1w2", "completed", 25000, -1).DivergedAt(), -1);
  // Finite in float32 but past the threshold: diverged where it blew up.
  EXPECT_TRUE(Record("w2", "completed", 25000, 1250).Diverged());
  EXPECT_EQ(Record("w2", "completed", 25000, 1250).DivergedAt(), 1250);
  // NaN stopped the run: diverged there, or earlier if it had blown up.
  EXPECT_EQ(Record("none", "diverged", 180, -1).DivergedAt(), 180);
  EXPECT_EQ(Record("none", "diverged", 180, 150).DivergedAt(), 150);
  // Past the threshold at 120, back below at 130, past it for good from 140:
  // diverged at 140.
  EXPECT_EQ(Record("w2", "completed", 200, 120, 140).DivergedAt(), 140);
  // A fast critic's transient that recovered is not a divergence.
  EXPECT_FALSE(Record("w1w2", "completed", 25000, 200, -1).Diverged());
  EXPECT_EQ(Record("w1w2", "completed", 25000, 200, -1).DivergedAt(), -1);
  // A cancelled run that never blew up did not diverge.
  EXPECT_FALSE(Record("w1", "cancelled", 900, -1).Diverged());
}

class ReportFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/repro_report_" + std::to_string(getpid());
    Report report;
    report.title = "pinwheel";
    report.command_line = "proxflow-lab repro manifold";
    report.runs = {Record("w1w2", "completed", 25000, -1),
                   Record("w2", "completed", 25000, 1250),
                   Record("none", "diverged", 180, -1),
                   Record("w1", "completed", 25000, 200, -1)};
    std::filesystem::create_directories(dir_);
    const absl::Status written = WriteReport(dir_, report);
    ASSERT_TRUE(written.ok()) << written;
    auto json = proxflow::ReadFile(dir_ + "/report.json", 1 << 20);
    auto md = proxflow::ReadFile(dir_ + "/report.md", 1 << 20);
    ASSERT_TRUE(json.ok()) << json.status();
    ASSERT_TRUE(md.ok()) << md.status();
    json_ = *json;
    md_ = *md;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_, json_, md_;
};

TEST_F(ReportFiles, JsonCarriesDivergedAndWhere) {
  EXPECT_NE(json_.find("\"method\": \"w1w2\", \"dataset\": \"pinwheel\", "
                       "\"dim\": 12, \"seed\": 0, \"iterations_requested\": "
                       "25000, \"iterations_completed\": 25000, \"outcome\": "
                       "\"completed\", \"reason\": \"\", \"diverged\": false, "
                       "\"diverged_at\": null, \"blowup_iteration\": null"),
            std::string::npos)
      << json_;
  EXPECT_NE(json_.find("\"outcome\": \"completed\", \"reason\": \"\", "
                       "\"diverged\": true, \"diverged_at\": 1250, "
                       "\"blowup_iteration\": 1250, "
                       "\"sustained_blowup_iteration\": 1250"),
            std::string::npos)
      << json_;
  EXPECT_NE(json_.find("\"outcome\": \"diverged\", \"reason\": \"\", "
                       "\"diverged\": true, \"diverged_at\": 180, "
                       "\"blowup_iteration\": null"),
            std::string::npos)
      << json_;
  EXPECT_NE(json_.find("\"diverged\": false, \"diverged_at\": null, "
                       "\"blowup_iteration\": 200, "
                       "\"sustained_blowup_iteration\": null"),
            std::string::npos)
      << json_;
}

TEST_F(ReportFiles, MarkdownSaysHowEachRunDiverged) {
  EXPECT_NE(md_.find("| w1w2 | pinwheel | 12 | 0 | 25000/25000 | completed | "
                     "0.0086 |"),
            std::string::npos)
      << md_;
  EXPECT_NE(md_.find("| w2 | pinwheel | 12 | 0 | 25000/25000 | **diverged** at "
                     "1250 (critic estimate > 100 nats from there on; "
                     "completed 25000, finite) |"),
            std::string::npos)
      << md_;
  EXPECT_NE(md_.find("| none | pinwheel | 12 | 0 | 180/25000 | **diverged** at "
                     "180 (non-finite) |"),
            std::string::npos)
      << md_;
  EXPECT_NE(
      md_.find("| w1 | pinwheel | 12 | 0 | 25000/25000 | completed (critic "
               "estimate > 100 nats at 200, recovered) |"),
      std::string::npos)
      << md_;
  // The training convention's KE beside the paths' own.
  EXPECT_NE(md_.find("| divergence | KE | path KE | HJB |"), std::string::npos);
  EXPECT_NE(md_.find("| 1.08 | 6.1 |"), std::string::npos) << md_;
  EXPECT_NE(
      json_.find("\"kinetic_energy\": 1.08, \"path_kinetic_energy\": 6.1"),
      std::string::npos)
      << json_;
  // Where the paths bend, per step.
  EXPECT_NE(
      md_.find("Per Euler step (training dt):\n- w1w2 d=12 seed 0: speed 3.5 / "
               "2.25; turn between steps 12.5°\n"),
      std::string::npos)
      << md_;
  EXPECT_NE(json_.find("\"step_speed\": [3.5, 2.25], \"step_turn_degrees\": "
                       "[12.5]"),
            std::string::npos)
      << json_;
  EXPECT_NE(json_.find("\"step_speed\": [], \"step_turn_degrees\": []"),
            std::string::npos);
  EXPECT_NE(md_.find("Diverged: a non-finite loss, or the critic's KL "
                     "estimate past 100 nats"),
            std::string::npos)
      << md_;
}

// Two seeds of the 12-D pinwheel ablation: w1w2 meets the paper's Sinkhorn
// and the straightness target with seed 0 only; w2 diverges with both.
Report TwoSeeds() {
  Report report;
  report.title = "pinwheel";
  for (uint64_t seed : {0, 1}) {
    RunRecord a = Record("w1w2", "completed", 25000, -1);
    a.seed = seed;
    a.sinkhorn = seed == 0 ? 8.6e-3 : 2.0e-2;
    a.straightness = seed == 0 ? 0.99 : 0.85;
    a.drift_dt8 = 0.08;
    RunRecord w2 = Record("w2", "completed", 25000, seed == 0 ? 1250 : 1950);
    w2.seed = seed;
    RunRecord w1 = Record("w1", "completed", 25000, -1);
    w1.seed = seed;
    w1.drift_dt8 = seed == 0 ? 0.23 : 0.05;
    w1.kinetic_energy = 24.4;
    report.runs.insert(report.runs.end(), {a, w2, w1});
  }
  RunRecord unpaired = Record("w1", "completed", 25000, -1);
  unpaired.seed = 7;  // no w1w2 run of seed 7: not compared
  unpaired.drift_dt8 = 0.01;
  report.runs.push_back(unpaired);
  RunRecord cancelled = Record("w1w2", "cancelled", 300, -1);
  cancelled.seed = 9;  // neither passes nor fails a check
  report.runs.push_back(cancelled);
  return report;
}

const CheckResult* Find(const std::vector<CheckResult>& checks,
                        const std::string& name, int dimension) {
  for (const CheckResult& c : checks) {
    if (c.check == name && c.dimension == dimension) return &c;
  }
  return nullptr;
}

TEST(Checks, CountSeedsPassingEachOfThePapersChecks) {
  const std::vector<CheckResult> checks = EvaluateChecks(TwoSeeds());
  const CheckResult* sinkhorn =
      Find(checks, "w1w2 Sinkhorn at or below the paper's", 12);
  ASSERT_NE(sinkhorn, nullptr);
  EXPECT_EQ(sinkhorn->passed, 1);
  EXPECT_EQ(sinkhorn->total, 2);
  EXPECT_FALSE(sinkhorn->Met());
  EXPECT_EQ(sinkhorn->detail, "0.0086 / 0.02 (paper 0.016)");
  const CheckResult* w2 = Find(checks, "w2 diverges", 12);
  ASSERT_NE(w2, nullptr);
  EXPECT_TRUE(w2->Met());
  EXPECT_EQ(w2->detail, "at 1250 / at 1950");
  const CheckResult* finite = Find(checks, "w1w2 finite", 12);
  ASSERT_NE(finite, nullptr);
  EXPECT_EQ(finite->total, 2);  // the cancelled run is not counted
  EXPECT_TRUE(finite->Met());
  const CheckResult* straight = Find(checks, "w1w2 straightness >= 0.98", 12);
  ASSERT_NE(straight, nullptr);
  EXPECT_EQ(straight->passed, 1);
  EXPECT_EQ(straight->detail, "0.990 / 0.850");
  // Drift compared seed by seed; w1's seed 7 has no w1w2 partner.
  const CheckResult* drift = Find(checks, "w1w2 drift at dt/8 below w1's", 12);
  ASSERT_NE(drift, nullptr);
  EXPECT_EQ(drift->passed, 1);
  EXPECT_EQ(drift->total, 2);
  EXPECT_EQ(drift->detail, "0.08 vs 0.23; 0.08 vs 0.05");
  const CheckResult* ke = Find(checks, "w1w2 kinetic energy below w1's", 12);
  ASSERT_NE(ke, nullptr);
  EXPECT_TRUE(ke->Met());
}

TEST(Checks, PaperSinkhornOnlyForThePinwheelAndW2OnlyOnManifolds) {
  EXPECT_DOUBLE_EQ(PaperSinkhorn("pinwheel", 2), 8.0e-3);
  EXPECT_DOUBLE_EQ(PaperSinkhorn("pinwheel", 7), 1.0e-2);
  EXPECT_TRUE(std::isnan(PaperSinkhorn("pinwheel", 5)));
  EXPECT_TRUE(std::isnan(PaperSinkhorn("moons", 12)));
  Report report;
  RunRecord a = Record("w1w2", "completed", 25000, -1);
  a.dimension = 2;
  a.dataset = "moons";
  RunRecord w2 = Record("w2", "completed", 25000, -1);
  w2.dimension = 2;
  report.runs = {a, w2};
  const std::vector<CheckResult> checks = EvaluateChecks(report);
  EXPECT_EQ(Find(checks, "w1w2 Sinkhorn at or below the paper's", 2), nullptr);
  EXPECT_EQ(Find(checks, "w2 diverges", 2), nullptr);  // 2-D data: no claim
  ASSERT_NE(Find(checks, "w1w2 finite", 2), nullptr);
}

TEST(Checks, MnistAblationChecksDivergenceAndKineticEnergy) {
  Report report;
  report.mnist = true;
  report.runs = {Record("w1w2", "completed", 200, -1),
                 Record("w2", "completed", 200, 120, 140),
                 Record("w1", "completed", 200, -1),
                 Record("none", "completed", 200, -1)};
  report.runs[2].kinetic_energy = 33.4;
  const std::vector<CheckResult> checks = EvaluateChecks(report);
  ASSERT_NE(Find(checks, "w2 diverges", 12), nullptr);
  EXPECT_TRUE(Find(checks, "w2 diverges", 12)->Met());
  EXPECT_EQ(Find(checks, "w2 diverges", 12)->detail, "at 140");
  EXPECT_FALSE(Find(checks, "none diverges", 12)->Met());
  EXPECT_TRUE(Find(checks, "w1 finite", 12)->Met());
  EXPECT_EQ(Find(checks, "w1w2 kinetic energy below w1's", 12)->detail,
            "1.08 vs 33.4");
  EXPECT_EQ(Find(checks, "w1w2 straightness >= 0.98", 12), nullptr);
}

TEST(Checks, SpreadIsMedianMinMaxOfTheFiniteValues) {
  const Spread odd = SpreadOf({3.0, NAN, 1.0, 2.0});
  EXPECT_EQ(odd.count, 3);
  EXPECT_DOUBLE_EQ(odd.median, 2.0);
  EXPECT_DOUBLE_EQ(odd.min, 1.0);
  EXPECT_DOUBLE_EQ(odd.max, 3.0);
  EXPECT_DOUBLE_EQ(SpreadOf({4.0, 1.0, 2.0, 3.0}).median, 2.5);
  EXPECT_EQ(SpreadOf({NAN}).count, 0);
  EXPECT_TRUE(std::isnan(SpreadOf({}).median));
}

TEST(Checks, ReportFilesCarryChecksAndTheSpreadAcrossSeeds) {
  const std::string dir =
      ::testing::TempDir() + "/repro_checks_" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  const Report report = TwoSeeds();
  ASSERT_TRUE(WriteReport(dir, report).ok());
  const std::string md = *proxflow::ReadFile(dir + "/report.md", 1 << 20);
  const std::string json = *proxflow::ReadFile(dir + "/report.json", 1 << 20);
  std::filesystem::remove_all(dir);
  EXPECT_NE(md.find("| w1w2 Sinkhorn at or below the paper's | 12 | partly | "
                    "1/2 | 0.0086 / 0.02 (paper 0.016) |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| w2 diverges | 12 | **met** | 2/2 | at 1250 / at 1950 |"),
            std::string::npos)
      << md;
  // Seeds 0 and 1 of w1w2 (the cancelled seed 9 is left out).
  EXPECT_NE(md.find("| w1w2 | 12 | 2 | 0 | 0.0143 (0.0086–0.02) | 0.920 "
                    "(0.850–0.990) | 0.08 (0.08–0.08) |"),
            std::string::npos)
      << md;
  EXPECT_NE(json.find("{\"check\": \"w2 diverges\", \"dim\": 12, \"met\": "
                      "true, \"passed\": 2, \"total\": 2, \"detail\": \"at "
                      "1250 / at 1950\"}"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find("{\"method\": \"w1w2\", \"dim\": 12, \"runs\": 2, "
                      "\"diverged\": 0, \"sinkhorn\": {\"median\": 0.0143, "
                      "\"min\": 0.0086, \"max\": 0.02}"),
            std::string::npos)
      << json;
}

}  // namespace
}  // namespace proxflow::lab
