// A real Prometheus (Debian's package) scrapes a real proxflow-server with the
// project's deploy/prometheus/prometheus.yml (only the target port and the
// intervals changed, so the test is quick) and answers queries: `up`, a
// histogram quantile and a counter rate. The binaries come from the build;
// the test is torch-free.
#include <fcntl.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "tests/testing/http_get.h"
#include "tests/testing/read_file.h"
#include "tests/testing/server_process.h"

namespace proxflow::testing {
namespace {

constexpr char kPrometheus[] = "/usr/bin/prometheus";

int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  socklen_t len = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

std::string UrlEncode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += absl::StrCat("%", absl::Hex(c, absl::kZeroPad2));
    }
  }
  return out;
}

// Runs `argv` to its end with output to `log`; returns the exit code.
int RunToEnd(const std::vector<std::string>& argv, const std::string& log) {
  const pid_t pid = fork();
  if (pid == 0) {
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    std::vector<char*> args;
    for (const std::string& a : argv)
      args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

class PrometheusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access(kPrometheus, X_OK) != 0)
      GTEST_SKIP() << kPrometheus
                   << " is missing (scripts/install-deps installs it)";
    setenv("PROXFLOW_SERVER_BIN", PROXFLOW_SERVER_BIN_PATH, 0);
    char pattern[] = "/tmp/proxflow-prometheus-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    if (prometheus_ > 0) {
      kill(prometheus_, SIGTERM);
      waitpid(prometheus_, nullptr, 0);
    }
    server_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // The first sample value of an instant query's result, or NaN.
  double Query(const std::string& promql) {
    const std::string body = HttpGetBody(
        prometheus_port_, "/api/v1/query?query=" + UrlEncode(promql));
    google::protobuf::Struct reply;
    if (!google::protobuf::util::JsonStringToMessage(body, &reply).ok())
      return NAN;
    const auto& data = reply.fields().find("data");
    if (data == reply.fields().end()) return NAN;
    const auto& result = data->second.struct_value().fields().find("result");
    if (result == data->second.struct_value().fields().end() ||
        result->second.list_value().values_size() == 0)
      return NAN;
    const auto& sample =
        result->second.list_value().values(0).struct_value().fields();
    const auto value = sample.find("value");
    if (value == sample.end() || value->second.list_value().values_size() < 2)
      return NAN;
    double v = NAN;
    if (!absl::SimpleAtod(value->second.list_value().values(1).string_value(),
                          &v))
      return NAN;
    return v;
  }

  // Polls `promql` until `ok(value)` or 90 s pass; returns the last value.
  template <typename Ok>
  double AwaitQuery(const std::string& promql, Ok ok) {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(90);
    double v = NAN;
    while (std::chrono::steady_clock::now() < deadline) {
      v = Query(promql);
      if (ok(v)) return v;
      std::this_thread::sleep_for(
          std::chrono::milliseconds(250));  // poll, not a timing assertion
    }
    return v;
  }

  std::string dir_;
  std::unique_ptr<ServerProcess> server_;
  pid_t prometheus_ = -1;
  int prometheus_port_ = 0;
};

TEST_F(PrometheusTest, ScrapesTheServerAndAnswersQueries) {
  server_ = std::make_unique<ServerProcess>(dir_ + "/data");
  const int grpc_port = server_->Start();
  ASSERT_GT(grpc_port, 0);
  const int metrics_port = server_->metrics_port();
  ASSERT_GT(metrics_port, 0);

  // The project's configuration, pointed at this server and scraping every
  // second.
  std::string config = ReadOrEmpty(std::string(PROXFLOW_SOURCE_DIR) +
                                   "/deploy/prometheus/prometheus.yml");
  ASSERT_NE(config.find("proxflow-server:9464"), std::string::npos);
  config = absl::StrReplaceAll(
      config,
      {{"proxflow-server:9464", absl::StrCat("127.0.0.1:", metrics_port)},
       {"scrape_interval: 15s", "scrape_interval: 1s"},
       {"evaluation_interval: 15s", "evaluation_interval: 1s"}});
  std::ofstream(dir_ + "/prometheus.yml") << config;
  std::filesystem::copy_file(
      std::string(PROXFLOW_SOURCE_DIR) + "/deploy/prometheus/alerts.yml",
      dir_ + "/alerts.yml");
  prometheus_port_ = FreePort();
  prometheus_ = fork();
  if (prometheus_ == 0) {
    const int fd =
        open((dir_ + "/prometheus.log").c_str(), O_WRONLY | O_CREAT, 0644);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    const std::string c = "--config.file=" + dir_ + "/prometheus.yml";
    const std::string t = "--storage.tsdb.path=" + dir_ + "/tsdb";
    const std::string w =
        absl::StrCat("--web.listen-address=127.0.0.1:", prometheus_port_);
    execl(kPrometheus, kPrometheus, c.c_str(), t.c_str(), w.c_str(), nullptr);
    _exit(127);
  }

  // Scrapes must have begun before the traffic, so that increases show.
  EXPECT_EQ(AwaitQuery("up{job=\"proxflow\"}", [](double v) { return v == 1; }),
            1)
      << ReadOrEmpty(dir_ + "/prometheus.log");
  // Traffic: a short training job followed to its end, then a sample call.
  const std::string cli = PROXFLOW_CLI_BIN_PATH;
  const std::string server = absl::StrCat("--server=127.0.0.1:", grpc_port);
  ASSERT_EQ(RunToEnd({cli, server, "train", "--preset", "toy-2d", "--set",
                      "model=toy", "--set", "iterations=20", "--set",
                      "eval_batch_size=256", "--follow"},
                     dir_ + "/cli.log"),
            0)
      << ReadOrEmpty(dir_ + "/cli.log");
  ASSERT_EQ(RunToEnd({cli, server, "sample", "toy@latest", "-n", "32", "--out",
                      dir_ + "/samples"},
                     dir_ + "/cli.log"),
            0)
      << ReadOrEmpty(dir_ + "/cli.log");

  EXPECT_EQ(AwaitQuery("proxflow_jobs_finished_total{result=\"succeeded\"}",
                       [](double v) { return v == 1; }),
            1);
  const double rate =
      AwaitQuery("sum(rate(proxflow_grpc_server_handled_total[5m]))",
                 [](double v) { return v > 0; });
  EXPECT_GT(rate, 0);
  const double p95 = AwaitQuery(
      "histogram_quantile(0.95, sum by (le) "
      "(increase(proxflow_grpc_server_handling_seconds_bucket[5m])))",
      [](double v) { return std::isfinite(v) && v > 0; });
  EXPECT_TRUE(std::isfinite(p95) && p95 > 0) << p95;
  EXPECT_EQ(AwaitQuery("proxflow_sampling_images_total",
                       [](double v) { return v == 32; }),
            32);
  // The project's alert rules loaded, and nothing fires on a healthy server.
  const std::string rules = HttpGetBody(prometheus_port_, "/api/v1/rules");
  for (const char* alert :
       {"ProxflowDown", "ProxflowCheckpointIntegrityFailure",
        "ProxflowJobsRestarting", "ProxflowSamplingSlow"}) {
    EXPECT_NE(rules.find(alert), std::string::npos) << alert << " in " << rules;
  }
  EXPECT_EQ(AwaitQuery("count(ALERTS{alertstate=\"firing\"}) or vector(0)",
                       [](double v) { return v == 0; }),
            0);
}

}  // namespace
}  // namespace proxflow::testing
