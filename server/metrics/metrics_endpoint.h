// MetricsEndpoint: serves a Prometheus registry in the text exposition format
// on http://ADDRESS/metrics.
//
// A small HTTP/1.1 server of its own (one thread, one connection at a time,
// 2 s socket timeouts, `Connection: close`): prometheus-cpp's civetweb exposer
// cannot start its threads in a process that links LibTorch (measured: "Cannot
// create threads" with libtorch_cpu loaded, fine without), and a scrape
// endpoint needs nothing more. Thread-safe; stops when destroyed.
#ifndef PROXFLOW_SERVER_METRICS_METRICS_ENDPOINT_H_
#define PROXFLOW_SERVER_METRICS_METRICS_ENDPOINT_H_

#include <prometheus/registry.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"

namespace proxflow::server {

class MetricsEndpoint {
 public:
  // `address` is IPV4:port or localhost:port (port 0 picks one).
  // INVALID_ARGUMENT for a malformed address, UNAVAILABLE when it cannot be
  // bound.
  // `before_collect` (optional) runs on the endpoint's thread before each
  // scrape, to set gauges that are read rather than recorded.
  static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(
      const std::string& address,
      std::shared_ptr<prometheus::Registry> registry,
      std::function<void()> before_collect = nullptr);
  ~MetricsEndpoint();

  int port() const { return port_; }
  const std::string& url() const { return url_; }  // http://host:port/metrics

 private:
  MetricsEndpoint() = default;
  void Serve();
  void Answer(int connection);

  std::shared_ptr<prometheus::Registry> registry_;
  std::function<void()> before_collect_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::string url_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace proxflow::server

#endif  // PROXFLOW_SERVER_METRICS_METRICS_ENDPOINT_H_
