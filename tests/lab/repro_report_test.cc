// The reproduction report: how a run's divergence is classified and written to
// report.json and report.md.
#include "tools/lab/repro_report.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "core/base/file_util.h"

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
  EXPECT_NE(md_.find("| w1w2 | pinwheel | 12 | 25000/25000 | completed | "
                     "0.0086 |"),
            std::string::npos)
      << md_;
  EXPECT_NE(md_.find("| w2 | pinwheel | 12 | 25000/25000 | **diverged** at "
                     "1250 (critic estimate > 100 nats from there on; "
                     "completed 25000, finite) |"),
            std::string::npos)
      << md_;
  EXPECT_NE(md_.find("| none | pinwheel | 12 | 180/25000 | **diverged** at "
                     "180 (non-finite) |"),
            std::string::npos)
      << md_;
  EXPECT_NE(md_.find("| w1 | pinwheel | 12 | 25000/25000 | completed (critic "
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
  EXPECT_NE(md_.find("Per Euler step (training dt):\n- w1w2 d=12: speed 3.5 / "
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

}  // namespace
}  // namespace proxflow::lab
