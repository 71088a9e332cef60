// One-line construction of the unlabelled metrics the server's metric classes
// hold (labelled families use prometheus-cpp's builders directly).
// Thread-safe as prometheus-cpp registries are.
#ifndef PROXFLOW_SERVER_METRICS_FAMILIES_H_
#define PROXFLOW_SERVER_METRICS_FAMILIES_H_

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace proxflow::server {

inline prometheus::Counter& NewCounter(prometheus::Registry& r,
                                       const char* name, const char* help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(r).Add({});
}

inline prometheus::Gauge& NewGauge(prometheus::Registry& r, const char* name,
                                   const char* help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(r).Add({});
}

inline prometheus::Histogram& NewHistogram(
    prometheus::Registry& r, const char* name, const char* help,
    const prometheus::Histogram::BucketBoundaries& buckets) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(r).Add(
      {}, buckets);
}

}  // namespace proxflow::server

#endif  // PROXFLOW_SERVER_METRICS_FAMILIES_H_
