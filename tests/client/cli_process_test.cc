// The `proxflow` CLI end to end against a real proxflow-server process
// (LibTorch backend): configs from YAML and JSON followed to completion, bad
// configs, sample files and grids, JSON output, exit codes. Binaries come from
// PROXFLOW_SERVER_BIN and PROXFLOW_CLI_BIN; the test itself is torch-free.
#include <fcntl.h>
#include <google/protobuf/util/json_util.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "core/base/blas_kernels.h"
#include "core/base/sha256.h"
#include "core/image/png.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proxflow/v1/registry.pb.h"
#include "proxflow/v1/sampling_service.pb.h"
#include "proxflow/v1/training_service.pb.h"
#include "tests/testing/read_file.h"
#include "tests/testing/server_process.h"

namespace proxflow::cli {
namespace {

namespace pb = proxflow::v1;
using ::proxflow::testing::ReadOrEmpty;
using ::proxflow::testing::ServerProcess;
using ::testing::HasSubstr;

struct Result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

template <typename Message>
Message ParseJson(const std::string& json) {
  Message m;
  const auto status = google::protobuf::util::JsonStringToMessage(json, &m);
  EXPECT_TRUE(status.ok()) << status.message() << "\n" << json;
  return m;
}

class CliProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // ServerProcess reads PROXFLOW_SERVER_BIN; default both to the built
    // binaries.
    setenv("PROXFLOW_SERVER_BIN", PROXFLOW_SERVER_BIN_PATH, /*overwrite=*/0);
    setenv("PROXFLOW_CLI_BIN", PROXFLOW_CLI_BIN_PATH, 0);
    for (const char* bin :
         {std::getenv("PROXFLOW_SERVER_BIN"), std::getenv("PROXFLOW_CLI_BIN")})
      ASSERT_EQ(access(bin, X_OK), 0) << bin << " is not an executable";
    char pattern[] = "/tmp/proxflow-cli-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    server_ = std::make_unique<ServerProcess>(dir_ + "/data");
    port_ = server_->Start();
    ASSERT_GT(port_, 0) << "proxflow-server did not start";
  }
  void TearDown() override {
    server_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // Runs `proxflow --server 127.0.0.1:PORT args...` to its end.
  Result Cli(const std::vector<std::string>& args) {
    return WaitCli(StartCli(args, "cli"), "cli");
  }

  // Starts the CLI in the background, its output in DIR/NAME.out and .err.
  pid_t StartCli(const std::vector<std::string>& args,
                 const std::string& name) {
    const std::string out = dir_ + "/" + name + ".out",
                      err = dir_ + "/" + name + ".err";
    const pid_t pid = fork();
    if (pid == 0) {
      const int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(o, STDOUT_FILENO);
      dup2(e, STDERR_FILENO);
      const std::string server = absl::StrCat("--server=127.0.0.1:", port_);
      std::vector<char*> argv;
      const char* bin = std::getenv("PROXFLOW_CLI_BIN");
      argv.push_back(const_cast<char*>(bin));
      argv.push_back(const_cast<char*>(server.c_str()));
      for (const std::string& a : args)
        argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(bin, argv.data());
      _exit(127);
    }
    return pid;
  }

  Result WaitCli(pid_t pid, const std::string& name) {
    int status = 0;
    waitpid(pid, &status, 0);
    Result r;
    r.exit_code =
        WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = ReadOrEmpty(dir_ + "/" + name + ".out");
    r.err = ReadOrEmpty(dir_ + "/" + name + ".err");
    return r;
  }

  // Uploads 64 synthetic digits as dataset "bars" and trains model "bars" on
  // them for two iterations of a narrow mnist preset.
  void TrainBars();

  std::string dir_;
  std::unique_ptr<ServerProcess> server_;
  int port_ = 0;
};

TEST_F(CliProcessTest, JobsFromYamlAndJsonFollowToSuccessAndListAsJson) {
  WriteText(
      dir_ + "/job.yaml",
      "# a small toy run\npreset: toy-2d\nmodel: from-yaml\niterations: 40\n"
      "batch_size: 64\neval_batch_size: 256\ndataset:\n  toy: "
      "TOY_SHAPE_MOONS\n");
  WriteText(dir_ + "/job.json",
            "{\n  \"preset\": \"toy-2d\",\n  \"model\": \"from-json\",\n  "
            "\"iterations\": 30,\n"
            "  \"batchSize\": 32,\n  \"evalBatchSize\": 256,\n"
            "  \"critic\": {\"network\": {\"width\": 32}}\n}\n");
  Result yaml = Cli({"train", "--config", dir_ + "/job.yaml", "--follow"});
  EXPECT_EQ(yaml.exit_code, 0) << yaml.out << yaml.err;
  EXPECT_THAT(yaml.out, HasSubstr("RUNNING -> SUCCEEDED"));
  EXPECT_THAT(yaml.out, HasSubstr("SUCCEEDED at step 40/40"));
  EXPECT_THAT(yaml.out, HasSubstr("checkpoint from-yaml/1 at step 40"));
  EXPECT_THAT(yaml.out, HasSubstr("step 40/40 100%"));  // plain progress lines

  Result json = Cli({"train", "--config", dir_ + "/job.json", "--set",
                     "iterations=20", "--follow"});
  EXPECT_EQ(json.exit_code, 0) << json.out << json.err;
  EXPECT_THAT(json.out, HasSubstr("SUCCEEDED at step 20/20"));

  Result list = Cli({"jobs", "list", "--output", "json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  const auto jobs = ParseJson<pb::ListJobsResponse>(list.out);
  ASSERT_EQ(jobs.jobs_size(), 2);
  EXPECT_EQ(jobs.jobs(0).resolved_config().model(), "from-yaml");
  EXPECT_EQ(jobs.jobs(0).resolved_config().dataset().toy(),
            pb::TOY_SHAPE_MOONS);
  EXPECT_EQ(jobs.jobs(1).resolved_config().model(), "from-json");
  EXPECT_EQ(jobs.jobs(1).resolved_config().critic().network().width(), 32);
  EXPECT_EQ(jobs.jobs(1).resolved_config().iterations(), 20);  // --set won
  for (const pb::Job& j : jobs.jobs())
    EXPECT_EQ(j.state(), pb::JOB_STATE_SUCCEEDED);

  Result show = Cli({"ckpt", "show", "from-json@latest", "--output", "json"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  const auto ckpt = ParseJson<pb::Checkpoint>(show.out);
  EXPECT_EQ(ckpt.status(), pb::CHECKPOINT_STATUS_READY);
  EXPECT_EQ(ckpt.lineage().job_id(), jobs.jobs(1).id());

  Result text = Cli({"jobs", "get", jobs.jobs(0).id()});
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_THAT(text.out, HasSubstr("SUCCEEDED"));
}

TEST_F(CliProcessTest, BadConfigsNameTheLineAndFieldAndExitTwo) {
  WriteText(dir_ + "/syntax.json",
            "{\n  \"preset\": \"toy-2d\",\n  \"model\": [1,\n}\n");
  WriteText(dir_ + "/unknown.yaml",
            "preset: toy-2d\nmodel: m\ncritic:\n  lernrate: 0.1\n");
  WriteText(dir_ + "/range.yaml",
            "preset: toy-2d\nmodel: m\n\nbatch_size: -3\n");
  Result syntax = Cli({"train", "--config", dir_ + "/syntax.json"});
  EXPECT_EQ(syntax.exit_code, 2);
  EXPECT_THAT(syntax.err, HasSubstr("syntax.json:4:"));
  EXPECT_THAT(syntax.err, HasSubstr("syntax error"));
  Result unknown = Cli({"train", "--config", dir_ + "/unknown.yaml"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_THAT(
      unknown.err,
      HasSubstr("unknown.yaml:4: unknown field \"lernrate\" in critic"));
  Result range = Cli({"train", "--config", dir_ + "/range.yaml"});
  EXPECT_EQ(range.exit_code, 2);
  EXPECT_THAT(
      range.err,
      HasSubstr(
          "range.yaml:4: training.batch_size must be in [1, 65536], got -3"));
  Result set = Cli({"train", "--preset", "toy-2d", "--set", "flow.dt=-1"});
  EXPECT_EQ(set.exit_code, 2);
  EXPECT_THAT(set.err, HasSubstr("--set flow.dt=-1: training.flow.dt must be"));
  Result missing = Cli({"train", "--config", dir_ + "/nope.yaml"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.err, HasSubstr("nope.yaml\" cannot be read"));
  // Nothing was queued.
  Result list = Cli({"jobs", "list", "--output", "json"});
  EXPECT_EQ(ParseJson<pb::ListJobsResponse>(list.out).jobs_size(), 0);
}

// A tiny IDX file of 28×28 images (bars whose position depends on the index).
std::string SyntheticDigits(int count) {
  std::string idx = {0, 0, 8, 3};
  for (int dim : {count, 28, 28}) {
    for (int shift : {24, 16, 8, 0})
      idx += static_cast<char>((dim >> shift) & 0xff);
  }
  for (int i = 0; i < count; ++i) {
    for (int y = 0; y < 28; ++y) {
      for (int x = 0; x < 28; ++x) {
        idx += static_cast<char>((x / 4 == i % 7 || y / 4 == i % 5) ? 255 : 0);
      }
    }
  }
  return idx;
}

void CliProcessTest::TrainBars() {
  WriteText(dir_ + "/digits.idx", SyntheticDigits(64));
  Result upload =
      Cli({"datasets", "upload", dir_ + "/digits.idx", "--name", "bars"});
  ASSERT_EQ(upload.exit_code, 0) << upload.err;
  EXPECT_THAT(upload.out, HasSubstr("64 rows of dimension 784"));
  Result train = Cli({"train",
                      "--preset",
                      "mnist",
                      "--set",
                      "model=bars",
                      "--set",
                      "dataset.kind=DATASET_KIND_UPLOADED",
                      "--set",
                      "dataset.uploaded_name=bars",
                      "--set",
                      "iterations=2",
                      "--set",
                      "batch_size=8",
                      "--set",
                      "eval_batch_size=16",
                      "--set",
                      "generator.network.width=32",
                      "--set",
                      "critic.network.width=32",
                      "--follow"});
  ASSERT_EQ(train.exit_code, 0) << train.out << train.err;
}

TEST_F(CliProcessTest, SampleWritesDecodableImagesAndAGrid) {
  ASSERT_NO_FATAL_FAILURE(TrainBars());

  const std::string out = dir_ + "/samples", grid = dir_ + "/grid.png";
  Result sample = Cli({"sample", "bars@latest", "-n", "6", "--out", out,
                       "--grid", grid, "--seed", "5"});
  ASSERT_EQ(sample.exit_code, 0) << sample.out << sample.err;
  for (int i = 0; i < 6; ++i) {
    auto image = image::DecodePng(
        ReadOrEmpty(absl::StrCat(out, "/sample_000", i, ".png")));
    ASSERT_TRUE(image.ok()) << image.status();
    EXPECT_EQ(image->width, 28);
    EXPECT_EQ(image->height, 28);
    EXPECT_EQ(image->channels, 1);
  }
  // 3 columns × 2 rows of 56-pixel tiles with 2-pixel gaps.
  auto tiled = image::DecodePng(ReadOrEmpty(grid));
  ASSERT_TRUE(tiled.ok()) << tiled.status();
  EXPECT_EQ(tiled->width, 3 * 56 + 4 * 2);
  EXPECT_EQ(tiled->height, 2 * 56 + 3 * 2);
  const std::vector<std::string> lines = absl::StrSplit(
      ReadOrEmpty(out + "/samples.csv"), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 7u);
  EXPECT_EQ(lines[0], "index,seed,file,sha256");
  EXPECT_THAT(lines[1], ::testing::StartsWith("0,5,sample_0000.png,"));
  EXPECT_THAT(lines[6], ::testing::StartsWith("5,10,sample_0005.png,"));

  // The same seed gives the same image, whatever else is asked.
  Result again = Cli(
      {"sample", "bars/1", "-n", "1", "--out", dir_ + "/again", "--seed", "7"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(ReadOrEmpty(dir_ + "/again/sample_0000.png"),
            ReadOrEmpty(out + "/sample_0002.png"));

  Result json = Cli({"sample", "bars@latest", "-n", "2", "--out", dir_ + "/j",
                     "--output", "json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_EQ(ParseJson<pb::SampleSummary>(json.out).items(), 2);
}

TEST_F(CliProcessTest, PointModelsGiveACsvAndAScatterPlot) {
  Result train =
      Cli({"train", "--preset", "toy-2d", "--set", "model=toy", "--set",
           "iterations=10", "--set", "eval_batch_size=256", "--follow"});
  ASSERT_EQ(train.exit_code, 0) << train.out << train.err;
  const std::string out = dir_ + "/points";
  Result sample =
      Cli({"sample", "toy@latest", "-n", "300", "--per_request", "128", "--out",
           out, "--seed", "1", "--solver", "heun", "--steps", "10"});
  ASSERT_EQ(sample.exit_code, 0) << sample.out << sample.err;
  const std::vector<std::string> lines =
      absl::StrSplit(ReadOrEmpty(out + "/points.csv"), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 301u);  // header + 300 rows across 3 requests
  EXPECT_EQ(lines[0], "index,seed,x0,x1");
  EXPECT_THAT(lines[300], ::testing::StartsWith("299,300,"));
  auto plot = image::DecodePng(ReadOrEmpty(out + "/scatter.png"));
  ASSERT_TRUE(plot.ok()) << plot.status();
  EXPECT_EQ(plot->width, 512);
  EXPECT_EQ(plot->channels, 3);
}

// The determinism promise as a user checks it: the same seeds give the same
// bytes however the CLI splits them into requests (and so however the server
// batches them), for a point model's coordinates and an image model's PNGs.
// ctest runs it again under each OpenBLAS kernel family (label "kernels").
TEST_F(CliProcessTest, SamplesAreTheSameBytesForEveryRequestSplit) {
  if (const char* forced = std::getenv("OPENBLAS_CORETYPE");
      forced != nullptr && !CpuRunsBlasCore(forced, DetectCpuFeatures())) {
    GTEST_SKIP() << "OPENBLAS_CORETYPE=" << forced
                 << " needs instructions this CPU lacks";
  }
  Result train =
      Cli({"train", "--preset", "toy-2d", "--set", "model=det", "--set",
           "iterations=200", "--set", "eval_batch_size=256", "--follow"});
  ASSERT_EQ(train.exit_code, 0) << train.out << train.err;
  std::string first;
  for (const char* per_request : {"256", "1", "7", "8", "64", "100"}) {
    const std::string out = absl::StrCat(dir_, "/points-", per_request);
    Result sample = Cli({"sample", "det@latest", "-n", "256", "--seed", "5",
                         "--per_request", per_request, "--out", out});
    ASSERT_EQ(sample.exit_code, 0) << sample.out << sample.err;
    const std::string csv = ReadOrEmpty(out + "/points.csv");
    ASSERT_EQ(std::count(csv.begin(), csv.end(), '\n'), 257) << per_request;
    if (first.empty()) first = csv;
    EXPECT_EQ(Sha256Hex(csv), Sha256Hex(first))
        << "--per_request " << per_request;
  }

  ASSERT_NO_FATAL_FAILURE(TrainBars());
  std::string pngs;
  for (const char* per_request : {"13", "1", "5"}) {
    const std::string out = absl::StrCat(dir_, "/digits-", per_request);
    Result sample = Cli({"sample", "bars@latest", "-n", "13", "--seed", "3",
                         "--per_request", per_request, "--out", out});
    ASSERT_EQ(sample.exit_code, 0) << sample.out << sample.err;
    // index, seed, file and every PNG's sha256.
    const std::string csv = ReadOrEmpty(out + "/samples.csv");
    ASSERT_EQ(std::count(csv.begin(), csv.end(), '\n'), 14) << per_request;
    if (pngs.empty()) pngs = csv;
    EXPECT_EQ(csv, pngs) << "--per_request " << per_request;
  }
  // Not a degenerate model: the 13 seeds give 13 different images.
  std::vector<std::string> digests;
  for (absl::string_view line : absl::StrSplit(pngs, '\n', absl::SkipEmpty())) {
    digests.emplace_back(line.substr(line.rfind(',') + 1));
  }
  std::sort(digests.begin() + 1, digests.end());
  EXPECT_EQ(std::unique(digests.begin() + 1, digests.end()) - digests.begin(),
            14);
}

TEST_F(CliProcessTest, WatchExitCodeReflectsACancelledJob) {
  Result submit = Cli({"train", "--preset", "toy-2d", "--set", "model=long",
                       "--set", "iterations=1000000", "--output", "json"});
  ASSERT_EQ(submit.exit_code, 0) << submit.err;
  const std::string id =
      ParseJson<pb::SubmitJobResponse>(submit.out).job().id();
  ASSERT_FALSE(id.empty());
  Result cancel = Cli({"jobs", "cancel", id});
  ASSERT_EQ(cancel.exit_code, 0) << cancel.err;
  Result watch = Cli({"jobs", "watch", id});
  EXPECT_EQ(watch.exit_code, 4) << watch.out << watch.err;
  EXPECT_THAT(watch.out, HasSubstr("CANCELLED"));
  Result missing = Cli({"jobs", "watch", "job-0000"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("NOT_FOUND"));
}

// `train --follow` rides out a server killed with SIGKILL and restarted on the
// same port after an outage longer than the retry policy's 5 attempts: every
// event exactly once, a line on stderr per wait, the job's exit code. The
// outage lasts until the CLI reports attempt PROXFLOW_OUTAGE_ATTEMPTS (default
// 6, one past the old limit, ~5 s; 14 is about a minute, the backoff capped at
// 10 s).
TEST_F(CliProcessTest, FollowRidesOutAServerOutageWithEveryEventOnce) {
  const char* attempts_env = std::getenv("PROXFLOW_OUTAGE_ATTEMPTS");
  const int attempts = attempts_env != nullptr ? std::atoi(attempts_env) : 6;
  const pid_t follow =
      StartCli({"train", "--preset", "toy-2d", "--set", "model=outage", "--set",
                "iterations=300", "--set", "checkpoint_interval=50", "--set",
                "log_interval=10", "--follow", "--full_history", "--output",
                "json", "--reconnect_for", "3m"},
               "follow");
  // Kill the server once the job has checkpointed past step 50.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::minutes(2);
  bool running = false;
  while (!running && std::chrono::steady_clock::now() < deadline) {
    const std::string events = ReadOrEmpty(dir_ + "/follow.out");
    for (absl::string_view line : absl::StrSplit(events, '\n')) {
      if (absl::StrContains(line, "\"checkpoint_saved\"") &&
          !absl::StrContains(line, "\"step\":\"50\""))
        running = true;
    }
    std::this_thread::yield();
  }
  ASSERT_TRUE(running) << "no checkpoint after step 50 within 2 minutes:\n"
                       << ReadOrEmpty(dir_ + "/follow.out");
  server_->Kill(SIGKILL);
  const auto killed = std::chrono::steady_clock::now();
  // The outage: until the CLI has waited through `attempts` reconnects.
  const std::string wanted = absl::StrCat("attempt ", attempts, " in ");
  bool waited = false;
  while (!waited && std::chrono::steady_clock::now() <
                        deadline + std::chrono::minutes(3)) {
    waited =
        ReadOrEmpty(dir_ + "/follow.err").find(wanted) != std::string::npos;
    std::this_thread::yield();
  }
  ASSERT_TRUE(waited) << ReadOrEmpty(dir_ + "/follow.err");
  const int port = port_;
  port_ = server_->Start("", {absl::StrCat("--listen=127.0.0.1:", port)});
  ASSERT_EQ(port_, port) << "the server did not come back on its port";
  std::printf("outage (SIGKILL to serving again): %.1f s, %d attempts\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                            killed)
                  .count(),
              attempts);
  const Result r = WaitCli(follow, "follow");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("the server does not answer"));
  EXPECT_THAT(r.err, HasSubstr("(--reconnect_for)"));
  // Every event once, in order (--full_history: none coalesced), ending
  // SUCCEEDED.
  std::vector<int64_t> sequences;
  std::string last;
  for (absl::string_view line : absl::StrSplit(r.out, '\n')) {
    if (line.empty() || line[0] != '{') continue;
    const auto event = ParseJson<pb::JobEvent>(std::string(line));
    sequences.push_back(event.sequence());
    last = std::string(line);
  }
  ASSERT_GT(sequences.size(), 10u) << r.out;
  EXPECT_EQ(sequences[0], 1);
  for (size_t i = 1; i < sequences.size(); ++i)
    EXPECT_EQ(sequences[i], sequences[i - 1] + 1) << "at event " << i;
  EXPECT_THAT(last, HasSubstr("JOB_STATE_SUCCEEDED")) << r.out;
}

// MNIST is a dataset the server offers by name from its --datasets_root; a
// config naming a server directory is refused (issue 21 §3).
TEST_F(CliProcessTest, MnistComesFromTheServersCatalogNeverFromAClientPath) {
  const std::vector<std::string> small = {
      "--set", "iterations=2",          "--set", "batch_size=8",
      "--set", "eval_batch_size=16",    "--set", "dataset.subset_size=64",
      "--set", "generator.network.width=32",
      "--set", "critic.network.width=32", "--set", "eval_interval=0"};
  std::vector<std::string> args = {"train", "--preset", "mnist", "--set",
                                   "model=digits"};
  args.insert(args.end(), small.begin(), small.end());

  Result offered_none = Cli(args);
  EXPECT_EQ(offered_none.exit_code, 1) << offered_none.err;
  EXPECT_THAT(offered_none.err, HasSubstr("training.dataset.kind"));
  EXPECT_THAT(offered_none.err,
              HasSubstr("starts proxflow-server with --datasets_root DIR"));
  std::vector<std::string> with_path = args;
  with_path.insert(with_path.end(), {"--set", "dataset.mnist_dir=/etc"});
  Result path = Cli(with_path);
  EXPECT_EQ(path.exit_code, 2) << path.err;
  EXPECT_THAT(path.err, HasSubstr("training.dataset.mnist_dir names a "
                                  "directory on the server"));

  // The operator offers MNIST (64 synthetic digits) and restarts the server.
  std::filesystem::create_directories(dir_ + "/datasets/mnist");
  WriteText(dir_ + "/datasets/mnist/t10k-images-idx3-ubyte",
            SyntheticDigits(64));
  std::string labels = {0, 0, 8, 1, 0, 0, 0, 64};
  for (int i = 0; i < 64; ++i) labels += static_cast<char>(i % 10);
  WriteText(dir_ + "/datasets/mnist/t10k-labels-idx1-ubyte", labels);
  server_ = std::make_unique<ServerProcess>(dir_ + "/data");
  port_ = server_->Start("", {"--datasets_root=" + dir_ + "/datasets"});
  ASSERT_GT(port_, 0) << "proxflow-server did not start";
  args.push_back("--follow");
  Result trained = Cli(args);
  ASSERT_EQ(trained.exit_code, 0) << trained.out << trained.err;
  Result job = Cli({"jobs", "list", "--output", "json"});
  const auto jobs = ParseJson<pb::ListJobsResponse>(job.out);
  ASSERT_EQ(jobs.jobs_size(), 1);
  EXPECT_EQ(jobs.jobs(0).state(), pb::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(jobs.jobs(0).resolved_config().dataset().mnist_dir(), "")
      << "the server's path stays on the server";
}

TEST_F(CliProcessTest, HealthSaysServing) {
  Result health = Cli({"health", "--wait", "30"});
  EXPECT_EQ(health.exit_code, 0) << health.err;
  EXPECT_EQ(health.out, "SERVING\n");
  Result unknown = Cli({"health", "--service", "no.such.Service"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_THAT(unknown.err, HasSubstr("NOT_FOUND"));
}

// Security end to end: a TLS server with bearer tokens; the CLI with --tls_ca
// and a token from --token or PROXFLOW_TOKEN; roles enforced with clear
// messages; SIGHUP swaps the tokens of the running server.
TEST_F(CliProcessTest, TlsAndTokensFromTheCommandLine) {
  const std::string certs = PROXFLOW_SOURCE_DIR "/tests/testing/certs/";
  const std::string tokens = dir_ + "/tokens.txt";
  const auto line = [](const std::string& token, const std::string& who,
                       const std::string& role) {
    return absl::StrCat("sha256:", proxflow::Sha256Hex(token), " ", who, " ",
                        role, "\n");
  };
  std::ofstream(tokens) << line("t0k-trainer", "tina", "trainer")
                        << line("t0k-sampler", "sam", "sampler");
  server_ = std::make_unique<ServerProcess>(dir_ + "/secure-data");
  port_ = server_->Start("", {"--tls_cert=" + certs + "server.pem",
                              "--tls_key=" + certs + "server.key",
                              "--auth_tokens_file=" + tokens});
  ASSERT_GT(port_, 0) << "the TLS server did not start";
  const std::string ca = "--tls_ca=" + certs + "ca.pem";

  const Result none = Cli({ca, "jobs", "list"});
  EXPECT_EQ(none.exit_code, 1) << none.err;
  EXPECT_THAT(none.err, ::testing::HasSubstr("bearer token"));
  const Result trainer = Cli({ca, "--token=t0k-trainer", "jobs", "list"});
  EXPECT_EQ(trainer.exit_code, 0) << trainer.err;

  setenv("PROXFLOW_TOKEN", "t0k-sampler", 1);
  const Result denied =
      Cli({ca, "train", "--preset", "toy-2d", "--set", "iterations=5"});
  const Result models = Cli({ca, "models", "list"});
  unsetenv("PROXFLOW_TOKEN");
  EXPECT_EQ(denied.exit_code, 1) << denied.err;
  EXPECT_THAT(denied.err,
              ::testing::HasSubstr("\"sam\" has role sampler; this call "
                                   "needs trainer"));
  EXPECT_EQ(models.exit_code, 0) << models.err;

  std::ofstream(tokens, std::ios::trunc) << line("t0k-new", "nia", "admin");
  server_->Signal(SIGHUP);
  const auto deadline = absl::Now() + absl::Seconds(30);
  Result fresh;
  do {
    fresh = Cli({ca, "--token=t0k-new", "jobs", "list"});
  } while (fresh.exit_code != 0 && absl::Now() < deadline);
  EXPECT_EQ(fresh.exit_code, 0)
      << "SIGHUP did not load the new token: " << fresh.err;
  EXPECT_EQ(Cli({ca, "--token=t0k-trainer", "jobs", "list"}).exit_code, 1)
      << "a token removed from the file must stop working";
}

TEST_F(CliProcessTest, HelpAndUsageErrors) {
  Result help = Cli({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, HasSubstr("ckpt download REF"));
  Result train_help = Cli({"train", "--help"});
  EXPECT_EQ(train_help.exit_code, 0);
  EXPECT_THAT(train_help.out, HasSubstr("--set PATH=VALUE"));
  Result unknown = Cli({"jobs", "lst"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_THAT(unknown.err, HasSubstr("jobs list"));
  Result bad_flag = Cli({"jobs", "list", "--stat", "running"});
  EXPECT_EQ(bad_flag.exit_code, 2);
  EXPECT_THAT(bad_flag.err, HasSubstr("did you mean --state?"));
}

}  // namespace
}  // namespace proxflow::cli
