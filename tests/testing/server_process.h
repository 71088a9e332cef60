// ServerProcess: proxflow-server (PROXFLOW_SERVER_BIN) as a child process on
// port 0, for tests that need the real binary (kill -9, SIGTERM, the CLI end to
// end). Torch-free, header-only. Not thread-safe (one test thread drives it).
#ifndef PROXFLOW_TESTS_TESTING_SERVER_PROCESS_H_
#define PROXFLOW_TESTS_TESTING_SERVER_PROCESS_H_

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"

namespace proxflow::testing {

// A proxflow-server child process. Start() returns once it printed its port
// (that is, once storage is open and recovery is done).
class ServerProcess {
 public:
  explicit ServerProcess(std::string data_dir)
      : data_dir_(std::move(data_dir)) {}
  ~ServerProcess() {
    if (pid_ > 0) Kill(SIGKILL);
  }

  // `crash_at`, when set, becomes PROXFLOW_CRASH_AT of the child; `extra`
  // flags follow the defaults.
  int Start(const std::string& crash_at = "",
            const std::vector<std::string>& extra = {}) {
    const char* bin = std::getenv("PROXFLOW_SERVER_BIN");
    if (bin == nullptr) return 0;
    int fds[2];
    if (pipe(fds) != 0) return 0;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], STDERR_FILENO);
      close(fds[0]);
      if (!crash_at.empty()) setenv("PROXFLOW_CRASH_AT", crash_at.c_str(), 1);
      std::vector<std::string> args = {bin,
                                       "--listen=127.0.0.1:0",
                                       "--data_dir=" + data_dir_,
                                       "--threads=1",
                                       "--device=cpu",
                                       "--progress_min_interval=0",
                                       "--metrics_listen=127.0.0.1:0"};
      args.insert(args.end(), extra.begin(), extra.end());
      std::vector<char*> argv;
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(bin, argv.data());
      _exit(127);
    }
    close(fds[1]);
    log_ = fdopen(fds[0], "r");
    // Blocks until the server reports its port (or exits).
    char line[4096];
    while (std::fgets(line, sizeof(line), log_) != nullptr) {
      std::string s(line);
      if (const auto m = s.find("metrics on http://"); m != std::string::npos) {
        const size_t colon = s.find(':', m + 18);
        absl::SimpleAtoi(s.substr(colon + 1, s.find('/', colon) - colon - 1),
                         &metrics_port_);
      }
      const auto at = s.find("serving on port ");
      if (at == std::string::npos) continue;
      int port = 0;
      const std::string digits =
          s.substr(at + 16, s.find(' ', at + 16) - at - 16);
      if (absl::SimpleAtoi(digits, &port)) {
        // Keep reading the log so the server never blocks on a full pipe.
        drain_ = std::thread([this] {
          char rest[4096];
          while (std::fgets(rest, sizeof(rest), log_) != nullptr) {
            std::lock_guard<std::mutex> lock(lines_mu_);
            lines_.emplace_back(rest);
            lines_cv_.notify_all();
          }
        });
        return port;
      }
    }
    return 0;
  }

  // The first log line after the port line that contains `text`, waiting up
  // to `seconds`; empty when none came.
  std::string WaitForLog(const std::string& text, int seconds) {
    std::unique_lock<std::mutex> lock(lines_mu_);
    std::string found;
    lines_cv_.wait_for(lock, std::chrono::seconds(seconds), [&] {
      for (const std::string& line : lines_)
        if (line.find(text) != std::string::npos) found = line;
      return !found.empty();
    });
    return found;
  }

  // The port of /metrics (after Start()); 0 when it printed none.
  int metrics_port() const { return metrics_port_; }

  // Reaps a process that ends by itself; returns its wait status.
  int Wait() {
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    if (drain_.joinable()) drain_.join();  // EOF: the child is gone
    if (log_ != nullptr) fclose(log_);
    log_ = nullptr;
    return status;
  }

  // Sends `signal` without waiting (SIGHUP: reload).
  void Signal(int signal) { ::kill(pid_, signal); }

  // Sends `signal` and reaps the process; returns its exit status.
  int Kill(int signal) {
    ::kill(pid_, signal);
    return Wait();
  }

 private:
  const std::string data_dir_;
  pid_t pid_ = -1;
  FILE* log_ = nullptr;
  std::thread drain_;
  std::mutex lines_mu_;
  std::condition_variable lines_cv_;
  std::vector<std::string> lines_;
  int metrics_port_ = 0;
};

}  // namespace proxflow::testing

#endif  // PROXFLOW_TESTS_TESTING_SERVER_PROCESS_H_
