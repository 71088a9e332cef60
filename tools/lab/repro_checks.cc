#include "tools/lab/repro_checks.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace proxflow::lab {
namespace {

bool Counted(const RunRecord& r) {
  return r.outcome == "completed" || r.outcome == "diverged";
}

std::string Value(double v, const char* format = "%.3g") {
  return std::isfinite(v) ? absl::StrFormat(format, v) : std::string("—");
}

// The dimensions of the report's runs, in order of first appearance.
std::vector<int> Dimensions(const Report& report) {
  std::vector<int> dims;
  for (const RunRecord& r : report.runs) {
    if (std::find(dims.begin(), dims.end(), r.dimension) == dims.end())
      dims.push_back(r.dimension);
  }
  return dims;
}

std::vector<const RunRecord*> RunsOf(const Report& report,
                                     const std::string& method, int dimension) {
  std::vector<const RunRecord*> runs;
  for (const RunRecord& r : report.runs) {
    if (r.method == method && r.dimension == dimension && Counted(r))
      runs.push_back(&r);
  }
  return runs;
}

// A check over every counted run of (method, dimension): `pass` decides a
// run, `show` gives its measured value for the detail.
void PerRun(const Report& report, const std::string& method, int dimension,
            const std::string& name, const std::string& suffix,
            const std::function<bool(const RunRecord&)>& pass,
            const std::function<std::string(const RunRecord&)>& show,
            std::vector<CheckResult>& out) {
  CheckResult c{name, dimension, 0, 0, ""};
  std::vector<std::string> shown;
  for (const RunRecord* r : RunsOf(report, method, dimension)) {
    ++c.total;
    c.passed += pass(*r) ? 1 : 0;
    shown.push_back(show(*r));
  }
  if (c.total == 0) return;
  c.detail = absl::StrCat(absl::StrJoin(shown, " / "), suffix);
  out.push_back(std::move(c));
}

// A check comparing w1w2 with w1 of the same seed on `metric` (lower wins).
void AgainstW1(const Report& report, int dimension, const std::string& name,
               double RunRecord::*metric, std::vector<CheckResult>& out) {
  CheckResult c{name, dimension, 0, 0, ""};
  std::vector<std::string> shown;
  for (const RunRecord* a : RunsOf(report, "w1w2", dimension)) {
    for (const RunRecord* b : RunsOf(report, "w1", dimension)) {
      if (a->seed != b->seed) continue;
      ++c.total;
      const double x = a->*metric, y = b->*metric;
      c.passed += std::isfinite(x) && std::isfinite(y) && x < y ? 1 : 0;
      shown.push_back(absl::StrCat(Value(x), " vs ", Value(y)));
    }
  }
  if (c.total == 0) return;
  c.detail = absl::StrJoin(shown, "; ");
  out.push_back(std::move(c));
}

std::string DivergedAt(const RunRecord& r) {
  return r.Diverged() ? absl::StrCat("at ", r.DivergedAt()) : "finite";
}

}  // namespace

double PaperSinkhorn(const std::string& dataset, int dimension) {
  if (dataset != "pinwheel") return NAN;
  switch (dimension) {
    case 2:
      return 8.0e-3;
    case 7:
      return 1.0e-2;
    case 12:
      return 1.6e-2;
    default:
      return NAN;
  }
}

std::vector<CheckResult> EvaluateChecks(const Report& report) {
  std::vector<CheckResult> out;
  const auto finite = [](const RunRecord& r) { return !r.Diverged(); };
  const auto diverged = [](const RunRecord& r) { return r.Diverged(); };
  for (int d : Dimensions(report)) {
    PerRun(report, "w1w2", d, "w1w2 finite", "", finite, DivergedAt, out);
    if (report.mnist) {
      PerRun(report, "w1", d, "w1 finite", "", finite, DivergedAt, out);
      PerRun(report, "w2", d, "w2 diverges", "", diverged, DivergedAt, out);
      PerRun(report, "none", d, "none diverges", "", diverged, DivergedAt, out);
      AgainstW1(report, d, "w1w2 kinetic energy below w1's",
                &RunRecord::kinetic_energy, out);
      continue;
    }
    const std::vector<const RunRecord*> w1w2 = RunsOf(report, "w1w2", d);
    const double paper =
        w1w2.empty() ? NAN : PaperSinkhorn(w1w2.front()->dataset, d);
    if (std::isfinite(paper)) {
      PerRun(
          report, "w1w2", d, "w1w2 Sinkhorn at or below the paper's",
          absl::StrCat(" (paper ", Value(paper, "%.2g"), ")"),
          [paper](const RunRecord& x) { return x.sinkhorn <= paper; },
          [](const RunRecord& x) { return Value(x.sinkhorn); }, out);
    }
    if (d > 2)
      PerRun(report, "w2", d, "w2 diverges", "", diverged, DivergedAt, out);
    PerRun(
        report, "w1w2", d,
        absl::StrFormat("w1w2 straightness >= %.2f", kStraightnessTarget), "",
        [](const RunRecord& x) {
          return x.straightness >= kStraightnessTarget;
        },
        [](const RunRecord& x) { return Value(x.straightness, "%.3f"); }, out);
    AgainstW1(report, d, "w1w2 drift at dt/8 below w1's", &RunRecord::drift_dt8,
              out);
    AgainstW1(report, d, "w1w2 kinetic energy below w1's",
              &RunRecord::kinetic_energy, out);
  }
  return out;
}

std::vector<SeedSummary> SummariseSeeds(const Report& report) {
  std::vector<std::pair<std::string, int>> keys;
  for (const RunRecord& r : report.runs) {
    const std::pair<std::string, int> key{r.method, r.dimension};
    if (std::find(keys.begin(), keys.end(), key) == keys.end())
      keys.push_back(key);
  }
  std::vector<SeedSummary> out;
  for (const auto& [method, dim] : keys) {
    const std::vector<const RunRecord*> runs = RunsOf(report, method, dim);
    if (runs.size() < 2) continue;
    SeedSummary s;
    s.method = method;
    s.dimension = dim;
    s.runs = static_cast<int>(runs.size());
    const auto spread = [&](const std::function<double(const RunRecord&)>& f) {
      std::vector<double> v;
      for (const RunRecord* r : runs) v.push_back(f(*r));
      return SpreadOf(std::move(v));
    };
    for (const RunRecord* r : runs) s.diverged += r->Diverged() ? 1 : 0;
    s.sinkhorn = spread([](const RunRecord& r) { return r.sinkhorn; });
    s.straightness = spread([](const RunRecord& r) { return r.straightness; });
    s.drift_dt8 = spread([](const RunRecord& r) { return r.drift_dt8; });
    s.kinetic_energy =
        spread([](const RunRecord& r) { return r.kinetic_energy; });
    s.path_kinetic_energy =
        spread([](const RunRecord& r) { return r.path_kinetic_energy; });
    s.off_manifold_std =
        spread([](const RunRecord& r) { return r.off_manifold_std; });
    s.frechet = spread([](const RunRecord& r) { return r.frechet; });
    s.kid = spread([](const RunRecord& r) { return r.kid; });
    s.classes_covered = spread([](const RunRecord& r) {
      return r.classes_covered < 0 ? NAN : double(r.classes_covered);
    });
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace proxflow::lab
