// RPC metrics of proxflow-server: every call is counted by service, method and
// status code and timed into a latency histogram, by one gRPC server
// interceptor (never code in the handlers). Labels come from a closed set: the
// methods of the services registered at start-up; anything else (an unknown
// method a client made up) is counted as service="other", method="other".
// Thread-safe.
#ifndef PROXFLOW_SERVER_METRICS_RPC_METRICS_H_
#define PROXFLOW_SERVER_METRICS_RPC_METRICS_H_

#include <grpcpp/support/server_interceptor.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace proxflow::server {

class RpcMetrics {
 public:
  // `methods`: full names "/package.Service/Method" of every served method.
  RpcMetrics(prometheus::Registry& registry,
             const std::vector<std::string>& methods);

  // Records one finished call of `full_method` ("/pkg.Service/Method").
  void Record(const char* full_method, grpc::StatusCode code, double seconds);

  // The interceptor factory to hand to grpc::ServerBuilder.
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
  InterceptorFactory();

 private:
  struct Method {
    std::string service, method;
    prometheus::Histogram* latency = nullptr;
    // By grpc::StatusCode; OK exists from the start, others on first use (so
    // the scrape stays small). Set once, then read without locks.
    std::array<std::atomic<prometheus::Counter*>, 17> handled{};
  };
  std::unique_ptr<Method> MakeMethod(const std::string& service,
                                     const std::string& method);

  prometheus::Family<prometheus::Counter>& handled_;
  prometheus::Family<prometheus::Histogram>& latency_;
  // Built in the constructor, never changed afterwards.
  absl::flat_hash_map<std::string, std::unique_ptr<Method>> methods_;
  std::unique_ptr<Method> other_;
};

// The full method names ("/pkg.Service/Method") of `service_names`' methods, as
// found in the generated descriptor pool.
std::vector<std::string> ServiceMethods(
    const std::vector<std::string>& service_names);

}  // namespace proxflow::server

#endif  // PROXFLOW_SERVER_METRICS_RPC_METRICS_H_
