#include "server/metrics/rpc_metrics.h"

#include <google/protobuf/descriptor.h>

#include <chrono>

#include "absl/strings/str_cat.h"

namespace proxflow::server {
namespace {

// Latency buckets from 0.5 ms to 60 s (unary calls are ms; streams run long).
const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const auto* b = new prometheus::Histogram::BucketBoundaries{
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
      0.25,   0.5,   1,      2.5,   5,    10,    30,   60};
  return *b;
}

std::string CodeName(int code) {
  static const char* kNames[] = {"OK",
                                 "CANCELLED",
                                 "UNKNOWN",
                                 "INVALID_ARGUMENT",
                                 "DEADLINE_EXCEEDED",
                                 "NOT_FOUND",
                                 "ALREADY_EXISTS",
                                 "PERMISSION_DENIED",
                                 "RESOURCE_EXHAUSTED",
                                 "FAILED_PRECONDITION",
                                 "ABORTED",
                                 "OUT_OF_RANGE",
                                 "UNIMPLEMENTED",
                                 "INTERNAL",
                                 "UNAVAILABLE",
                                 "DATA_LOSS",
                                 "UNAUTHENTICATED"};
  return kNames[code];
}

// Records the call when its status is about to be sent, so a client that has
// the response also sees it counted; a call that never sends one (client gone,
// deadline passed) is recorded as CANCELLED when gRPC destroys the interceptor.
class Interceptor : public grpc::experimental::Interceptor {
 public:
  Interceptor(RpcMetrics& metrics, const char* method)
      : metrics_(metrics),
        method_(method),
        start_(std::chrono::steady_clock::now()) {}
  ~Interceptor() override {
    if (!recorded_) Record(grpc::StatusCode::CANCELLED);
  }
  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (!recorded_ &&
        methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      Record(methods->GetSendStatus().error_code());
    }
    methods->Proceed();
  }

 private:
  void Record(grpc::StatusCode code) {
    recorded_ = true;
    metrics_.Record(
        method_, code,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_)
            .count());
  }

  RpcMetrics& metrics_;
  const char* method_;
  const std::chrono::steady_clock::time_point start_;
  bool recorded_ = false;
};

class Factory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit Factory(RpcMetrics& metrics) : metrics_(metrics) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new Interceptor(metrics_, info->method());
  }

 private:
  RpcMetrics& metrics_;
};

}  // namespace

RpcMetrics::RpcMetrics(prometheus::Registry& registry,
                       const std::vector<std::string>& methods)
    : handled_(
          prometheus::BuildCounter()
              .Name("proxflow_grpc_server_handled_total")
              .Help("gRPC calls completed, by service, method and status code")
              .Register(registry)),
      latency_(prometheus::BuildHistogram()
                   .Name("proxflow_grpc_server_handling_seconds")
                   .Help("gRPC call duration from arrival to status, by "
                         "service and method")
                   .Register(registry)) {
  for (const std::string& full : methods) {
    const size_t slash = full.rfind('/');
    if (full.empty() || full[0] != '/' || slash == 0) continue;
    methods_[full] =
        MakeMethod(full.substr(1, slash - 1), full.substr(slash + 1));
  }
  other_ = MakeMethod("other", "other");
}

std::unique_ptr<RpcMetrics::Method> RpcMetrics::MakeMethod(
    const std::string& service, const std::string& method) {
  auto m = std::make_unique<Method>();
  m->service = service;
  m->method = method;
  m->latency = &latency_.Add({{"service", service}, {"method", method}},
                             LatencyBuckets());
  m->handled[0] = &handled_.Add(
      {{"service", service}, {"method", method}, {"code", CodeName(0)}});
  return m;
}

void RpcMetrics::Record(const char* full_method, grpc::StatusCode code,
                        double seconds) {
  auto it =
      full_method == nullptr ? methods_.end() : methods_.find(full_method);
  Method& m = it == methods_.end() ? *other_ : *it->second;
  int c = static_cast<int>(code);
  if (c < 0 || c >= 17) c = 2;  // UNKNOWN
  prometheus::Counter* counter = m.handled[c].load(std::memory_order_acquire);
  if (counter == nullptr) {
    // Family::Add is thread-safe and returns the same counter for the same
    // labels, so two racing first calls store the same pointer.
    counter = &handled_.Add(
        {{"service", m.service}, {"method", m.method}, {"code", CodeName(c)}});
    m.handled[c].store(counter, std::memory_order_release);
  }
  counter->Increment();
  m.latency->Observe(seconds);
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
RpcMetrics::InterceptorFactory() {
  return std::make_unique<Factory>(*this);
}

std::vector<std::string> ServiceMethods(
    const std::vector<std::string>& service_names) {
  std::vector<std::string> out;
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  for (const std::string& name : service_names) {
    const google::protobuf::ServiceDescriptor* s =
        pool->FindServiceByName(name);
    if (s == nullptr) continue;
    for (int i = 0; i < s->method_count(); ++i)
      out.push_back(
          absl::StrCat("/", s->full_name(), "/", s->method(i)->name()));
  }
  return out;
}

}  // namespace proxflow::server
