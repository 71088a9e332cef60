// The shipped Grafana dashboards and Prometheus alert rules parse and use only
// metric names the server exports (read from a real scrape).
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server/server_fixture.h"
#include "tests/testing/http_get.h"
#include "tests/testing/read_file.h"

namespace proxflow::server::testing {
namespace {

namespace gpb = google::protobuf;
using ::proxflow::testing::ReadOrEmpty;

// Every proxflow_* name in `text`.
std::set<std::string> Names(const std::string& text) {
  std::set<std::string> out;
  static const std::regex name("proxflow_[a-z0-9_]+");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), name);
       it != std::sregex_iterator(); ++it) {
    out.insert(it->str());
  }
  return out;
}

// The expr of every target of every panel.
void Exprs(const gpb::Value& v, std::string* out) {
  if (v.has_struct_value()) {
    for (const auto& [key, field] : v.struct_value().fields()) {
      if (key == "expr" && field.has_string_value()) {
        *out += field.string_value() + "\n";
      } else {
        Exprs(field, out);
      }
    }
  } else if (v.has_list_value()) {
    for (const gpb::Value& item : v.list_value().values()) Exprs(item, out);
  }
}

class DashboardsTest : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    options_.metrics_listen = "127.0.0.1:0";
    StartServer();
    const std::string url = server_->metrics_url();
    const int port = std::stoi(url.substr(url.rfind(':') + 1));
    // A job held mid-run after evaluations, so that the per-job series
    // (proxflow_job_evaluation, present only while a job runs) are exported.
    backend_.HoldAt(3);
    pb::TrainingConfig config = ToyConfig(10);
    config.set_eval_interval(1);
    pb::Job job;
    ASSERT_TRUE(Submit(config, &job).ok());
    std::string scrape;
    const auto deadline = Deadline();
    do {
      scrape = ::proxflow::testing::HttpGetBody(port, "/metrics");
    } while (scrape.find("proxflow_job_evaluation{") == std::string::npos &&
             std::chrono::system_clock::now() < deadline);
    backend_.Release();
    // Exported series names, with histogram parts (_bucket/_sum/_count).
    for (absl::string_view view : absl::StrSplit(scrape, '\n')) {
      const std::string line(view);
      if (line.rfind("# TYPE ", 0) != 0) continue;
      const std::string name = line.substr(7, line.find(' ', 7) - 7);
      exported_.insert(name);
      if (line.find(" histogram") != std::string::npos) {
        for (const char* part : {"_bucket", "_sum", "_count"})
          exported_.insert(name + part);
      }
    }
  }
  std::set<std::string> exported_;
};

TEST_F(DashboardsTest, DashboardsParseAndUseOnlyExportedMetrics) {
  ASSERT_GT(exported_.size(), 30u);
  const std::filesystem::path dir =
      std::filesystem::path(PROXFLOW_SOURCE_DIR) / "deploy/grafana/dashboards";
  int dashboards = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    ++dashboards;
    gpb::Struct dashboard;
    ASSERT_TRUE(gpb::util::JsonStringToMessage(
                    ReadOrEmpty(entry.path().string()), &dashboard)
                    .ok())
        << entry.path() << " does not parse";
    EXPECT_TRUE(dashboard.fields().contains("title")) << entry.path();
    EXPECT_TRUE(dashboard.fields().contains("panels")) << entry.path();
    gpb::Value root;
    *root.mutable_struct_value() = dashboard;
    std::string exprs;
    Exprs(root, &exprs);
    const std::set<std::string> used = Names(exprs);
    EXPECT_FALSE(used.empty()) << entry.path();
    for (const std::string& name : used)
      EXPECT_TRUE(exported_.count(name))
          << entry.path().filename() << " uses " << name
          << ", which the server does not export";
  }
  EXPECT_EQ(dashboards, 4);  // training, sampling, registry, gRPC
}

TEST_F(DashboardsTest, AlertRulesUseOnlyExportedMetrics) {
  const std::string rules =
      ReadOrEmpty((std::filesystem::path(PROXFLOW_SOURCE_DIR) /
                   "deploy/prometheus/alerts.yml")
                      .string());
  const std::set<std::string> used = Names(rules);
  EXPECT_GE(used.size(), 4u);
  for (const std::string& name : used)
    EXPECT_TRUE(exported_.count(name)) << "alerts.yml uses " << name;
}

}  // namespace
}  // namespace proxflow::server::testing
