#include "tools/lab/repro_report.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "core/base/file_util.h"
#include "core/base/status_macros.h"
#include "tools/lab/repro_checks.h"

namespace proxflow::lab {

int64_t RunRecord::DivergedAt() const {
  const int64_t non_finite = outcome == "diverged" ? iterations_completed : -1;
  const int64_t sustained = sustained_blowup_iteration;
  if (sustained < 0) return non_finite;
  return non_finite < 0 ? sustained : std::min(non_finite, sustained);
}

namespace {

std::string JsonNumber(double v) {
  return std::isfinite(v) ? absl::StrFormat("%.6g", v) : std::string("null");
}

std::string JsonNumbers(const std::vector<double>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i)
    absl::StrAppend(&out, i ? ", " : "", JsonNumber(v[i]));
  return out + "]";
}

std::string JsonIteration(int64_t i) {
  return i < 0 ? std::string("null") : absl::StrCat(i);
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      absl::StrAppendFormat(&out, "\\u%04x", c);
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string Cell(double v, const char* format = "%.3g") {
  return std::isfinite(v) ? absl::StrFormat(format, v) : std::string("—");
}

std::string Json(const Report& r) {
  std::string out = absl::StrCat(
      "{\n  \"title\": ", JsonString(r.title),
      ",\n  \"command\": ", JsonString(r.command_line), ",\n  \"runs\": [");
  for (size_t i = 0; i < r.runs.size(); ++i) {
    const RunRecord& x = r.runs[i];
    absl::StrAppend(&out, i ? "," : "", "\n    {");
    absl::StrAppend(
        &out, "\"method\": ", JsonString(x.method),
        ", \"dataset\": ", JsonString(x.dataset), ", \"dim\": ", x.dimension,
        ", \"seed\": ", x.seed,
        ", \"iterations_requested\": ", x.iterations_requested,
        ", \"iterations_completed\": ", x.iterations_completed,
        ", \"outcome\": ", JsonString(x.outcome),
        ", \"reason\": ", JsonString(x.reason),
        ", \"diverged\": ", x.Diverged() ? "true" : "false",
        ", \"diverged_at\": ", JsonIteration(x.DivergedAt()),
        ", \"blowup_iteration\": ", JsonIteration(x.blowup_iteration),
        ", \"sustained_blowup_iteration\": ",
        JsonIteration(x.sustained_blowup_iteration));
    absl::StrAppend(
        &out, ", \"divergence\": ", JsonNumber(x.divergence),
        ", \"kinetic_energy\": ", JsonNumber(x.kinetic_energy),
        ", \"path_kinetic_energy\": ", JsonNumber(x.path_kinetic_energy),
        ", \"hjb\": ", JsonNumber(x.hjb),
        ", \"terminal\": ", JsonNumber(x.terminal),
        ", \"straightness\": ", JsonNumber(x.straightness),
        ", \"step_speed\": ", JsonNumbers(x.step_speed),
        ", \"step_turn_degrees\": ", JsonNumbers(x.step_turn_degrees),
        ", \"drift_dt2\": ", JsonNumber(x.drift_dt2),
        ", \"drift_dt8\": ", JsonNumber(x.drift_dt8),
        ", \"sinkhorn\": ", JsonNumber(x.sinkhorn),
        ", \"off_manifold_std\": ", JsonNumber(x.off_manifold_std),
        ", \"frechet\": ", JsonNumber(x.frechet),
        ", \"kid\": ", JsonNumber(x.kid), ", \"classes_covered\": ",
        x.classes_covered < 0 ? std::string("null")
                              : absl::StrCat(x.classes_covered),
        ", \"confidence\": ", JsonNumber(x.confidence), ", \"class_counts\": [",
        absl::StrJoin(x.class_counts, ", "), "]",
        ", \"precision\": ", JsonString(x.precision),
        ", \"config\": ", x.config_json.empty() ? "null" : x.config_json,
        ", \"wall_seconds\": ", JsonNumber(x.wall_seconds),
        ", \"iterations_per_second\": ", JsonNumber(x.iterations_per_second),
        ", \"plot\": ", JsonString(x.plot),
        ", \"curve_plot\": ", JsonString(x.curve_plot),
        ", \"density_plot\": ", JsonString(x.density_plot),
        ", \"coverage_plot\": ", JsonString(x.coverage_plot),
        ", \"evaluations\": [");
    for (size_t k = 0; k < x.evaluations.size(); ++k) {
      absl::StrAppend(&out, k ? ", " : "",
                      "{\"iteration\": ", x.evaluations[k].first);
      for (const auto& [name, value] : x.evaluations[k].second)
        absl::StrAppend(&out, ", ", JsonString(name), ": ", JsonNumber(value));
      absl::StrAppend(&out, "}");
    }
    absl::StrAppend(&out, "], \"curve\": [");
    for (size_t k = 0; k < x.curve.size(); ++k) {
      absl::StrAppend(&out, k ? ", " : "", "[", x.curve[k].first, ", ",
                      JsonNumber(x.curve[k].second.first), ", ",
                      JsonNumber(x.curve[k].second.second), "]");
    }
    absl::StrAppend(&out, "]}");
  }
  absl::StrAppend(&out, "\n  ],\n  \"checks\": [");
  const std::vector<CheckResult> checks = EvaluateChecks(r);
  for (size_t i = 0; i < checks.size(); ++i) {
    const CheckResult& c = checks[i];
    absl::StrAppend(
        &out, i ? "," : "", "\n    {\"check\": ", JsonString(c.check),
        ", \"dim\": ", c.dimension, ", \"met\": ", c.Met() ? "true" : "false",
        ", \"passed\": ", c.passed, ", \"total\": ", c.total,
        ", \"detail\": ", JsonString(c.detail), "}");
  }
  absl::StrAppend(&out, "\n  ],\n  \"seed_summary\": [");
  const std::vector<SeedSummary> seeds = SummariseSeeds(r);
  for (size_t i = 0; i < seeds.size(); ++i) {
    const SeedSummary& s = seeds[i];
    absl::StrAppend(&out, i ? "," : "",
                    "\n    {\"method\": ", JsonString(s.method),
                    ", \"dim\": ", s.dimension, ", \"runs\": ", s.runs,
                    ", \"diverged\": ", s.diverged);
    for (const auto& [name, spread] :
         {std::pair{"sinkhorn", s.sinkhorn},
          {"straightness", s.straightness},
          {"drift_dt8", s.drift_dt8},
          {"kinetic_energy", s.kinetic_energy},
          {"path_kinetic_energy", s.path_kinetic_energy},
          {"off_manifold_std", s.off_manifold_std},
          {"frechet", s.frechet},
          {"kid", s.kid},
          {"classes_covered", s.classes_covered}}) {
      if (spread.count == 0) continue;
      absl::StrAppend(&out, ", \"", name,
                      "\": {\"median\": ", JsonNumber(spread.median),
                      ", \"min\": ", JsonNumber(spread.min),
                      ", \"max\": ", JsonNumber(spread.max), "}");
    }
    absl::StrAppend(&out, "}");
  }
  absl::StrAppend(&out, "\n  ],\n  \"notes\": [");
  for (size_t i = 0; i < r.notes.size(); ++i)
    absl::StrAppend(&out, i ? ", " : "", JsonString(r.notes[i]));
  return absl::StrCat(out, "]\n}\n");
}

// The paper's checks on this report's runs (repro_checks.h), and the spread
// of the metrics over seeds when a (method, dimension) ran more than once.
std::string ChecksAndSeeds(const Report& r) {
  std::string out;
  for (const CheckResult& c : EvaluateChecks(r)) {
    if (out.empty()) {
      absl::StrAppend(&out,
                      "\n## Checks (ALGORITHM.md §6–7)\n\n"
                      "| check | d | result | runs passing | measured |\n"
                      "|---|---|---|---|---|\n");
    }
    absl::StrAppend(&out, "| ", c.check, " | ", c.dimension, " | ",
                    c.Met()         ? "**met**"
                    : c.passed == 0 ? "not met"
                                    : "partly",
                    " | ", c.passed, "/", c.total, " | ", c.detail, " |\n");
  }
  const std::vector<SeedSummary> seeds = SummariseSeeds(r);
  if (seeds.empty()) return out;
  const auto cell = [](const Spread& s, const char* format) {
    if (s.count == 0) return std::string("—");
    return absl::StrCat(Cell(s.median, format), " (", Cell(s.min, format), "–",
                        Cell(s.max, format), ")");
  };
  if (r.mnist) {
    absl::StrAppend(
        &out,
        "\n## Across seeds: median (min–max)\n\n"
        "| method | d | runs | diverged | Fréchet | KID | classes "
        "| KE | path KE |\n|---|---|---|---|---|---|---|---|---|\n");
  } else {
    absl::StrAppend(&out,
                    "\n## Across seeds: median (min–max)\n\n"
                    "| method | d | runs | diverged | Sinkhorn | straightness "
                    "| drift dt/8 | KE | path KE | off-manifold std |\n"
                    "|---|---|---|---|---|---|---|---|---|---|\n");
  }
  for (const SeedSummary& s : seeds) {
    absl::StrAppend(&out, "| ", s.method, " | ", s.dimension, " | ", s.runs,
                    " | ", s.diverged, " | ");
    if (r.mnist) {
      absl::StrAppend(&out, cell(s.frechet, "%.3g"), " | ", cell(s.kid, "%.3g"),
                      " | ", cell(s.classes_covered, "%.0f"), " | ");
    } else {
      absl::StrAppend(&out, cell(s.sinkhorn, "%.3g"), " | ",
                      cell(s.straightness, "%.3f"), " | ",
                      cell(s.drift_dt8, "%.3g"), " | ");
    }
    absl::StrAppend(&out, cell(s.kinetic_energy, "%.3g"), " | ",
                    cell(s.path_kinetic_energy, "%.3g"));
    if (!r.mnist)
      absl::StrAppend(&out, " | ", cell(s.off_manifold_std, "%.3g"));
    absl::StrAppend(&out, " |\n");
  }
  return out;
}

std::string Outcome(const RunRecord& x) {
  if (x.outcome == "diverged") {
    return absl::StrCat("**diverged** at ", x.iterations_completed,
                        " (non-finite)");
  }
  if (x.sustained_blowup_iteration >= 0) {
    return absl::StrCat("**diverged** at ", x.sustained_blowup_iteration,
                        " (critic estimate > ", kBlowupNats,
                        " nats from there on; ", x.outcome, " ",
                        x.iterations_completed, ", finite)");
  }
  if (x.blowup_iteration >= 0) {
    return absl::StrCat(x.outcome, " (critic estimate > ", kBlowupNats,
                        " nats at ", x.blowup_iteration, ", recovered)");
  }
  return x.outcome;
}

// One line per run with evaluations during training: the class monitor's
// coverage, largest share and Fréchet distance at each evaluated iteration.
std::string CoverageWhileTraining(const Report& r) {
  std::string out;
  for (const RunRecord& x : r.runs) {
    std::vector<std::string> points;
    for (const auto& [iteration, values] : x.evaluations) {
      const auto find = [&](absl::string_view name) {
        for (const auto& [n, v] : values)
          if (n == name) return v;
        return static_cast<double>(NAN);
      };
      if (std::isnan(find("class_coverage"))) continue;
      points.push_back(
          absl::StrFormat("%d: %s cls, top %s, F %s", iteration,
                          Cell(find("class_coverage"), "%.0f"),
                          Cell(find("largest_class_share"), "%.2f"),
                          Cell(find("frechet"), "%.0f")));
    }
    if (points.empty()) continue;
    absl::StrAppend(&out,
                    out.empty()
                        ? "\nCoverage while training (iteration: classes "
                          "holding half a uniform share, the largest class's "
                          "share, Fréchet; the class monitor's fixed seeds):\n"
                        : "",
                    "- ", x.method, " seed ", x.seed, ": ",
                    absl::StrJoin(points, "; "), "\n");
  }
  return out;
}

// The MNIST study's table: sample quality instead of Sinkhorn and the
// off-manifold spread.
std::string MnistMarkdown(const Report& r) {
  std::string out = absl::StrCat("# ", r.title, "\n\nProduced by `",
                                 r.command_line, "`.\n\n");
  absl::StrAppend(
      &out,
      "| method | seed | iterations | outcome | Fréchet | KID | classes | "
      "confidence | divergence | KE | path KE | HJB | terminal | drift dt/2 | "
      "drift dt/8 | it/s | precision |\n",
      "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
      "\n");
  for (const RunRecord& x : r.runs) {
    absl::StrAppend(
        &out, "| ", x.method, " | ", x.seed, " | ", x.iterations_completed, "/",
        x.iterations_requested, " | ", Outcome(x), " | ", Cell(x.frechet),
        " | ", Cell(x.kid), " | ",
        x.classes_covered < 0 ? std::string("—")
                              : absl::StrCat(x.classes_covered, "/10"),
        " | ", Cell(x.confidence), " | ", Cell(x.divergence), " | ",
        Cell(x.kinetic_energy), " | ", Cell(x.path_kinetic_energy), " | ",
        Cell(x.hjb), " | ", Cell(x.terminal), " | ", Cell(x.drift_dt2), " | ",
        Cell(x.drift_dt8), " | ", Cell(x.iterations_per_second, "%.2f"), " | ",
        x.precision, " |\n");
  }
  absl::StrAppend(&out,
                  "\nFréchet and KID: the project's classifier's 128 "
                  "penultimate features of the generated images (pixels "
                  "clamped to [0, 1], as shown) against the held-out pool. "
                  "Classes: predicted classes holding at least "
                  "10 % of a uniform share. Confidence: mean top-class "
                  "probability.\n");
  absl::StrAppend(&out, CoverageWhileTraining(r), ChecksAndSeeds(r));
  for (const std::string& note : r.notes)
    absl::StrAppend(&out, "\n", note, "\n");
  for (const RunRecord& x : r.runs) {
    for (const std::string& plot : {x.plot, x.curve_plot, x.coverage_plot}) {
      if (!plot.empty())
        absl::StrAppend(&out, "\n![", x.method, "](", plot, ")");
    }
  }
  return absl::StrCat(out, "\n");
}

// One line per run with a step profile: where along the paths speed changes
// and the paths turn.
std::string StepProfiles(const Report& r) {
  std::string out;
  const auto cells = [](const std::vector<double>& v, const char* format) {
    std::vector<std::string> c;
    for (double x : v) c.push_back(Cell(x, format));
    return absl::StrJoin(c, " / ");
  };
  for (const RunRecord& x : r.runs) {
    if (x.step_speed.empty()) continue;
    absl::StrAppend(
        &out, out.empty() ? "\nPer Euler step (training dt):\n" : "", "- ",
        x.method, " d=", x.dimension, " seed ", x.seed, ": speed ",
        cells(x.step_speed, "%.3g"), "; turn between steps ",
        cells(x.step_turn_degrees, "%.1f°"), "\n");
  }
  return out;
}

std::string Markdown(const Report& r) {
  if (r.mnist) return MnistMarkdown(r);
  std::string out = absl::StrCat("# ", r.title, "\n\nProduced by `",
                                 r.command_line, "`.\n\n");
  absl::StrAppend(
      &out,
      "| method | data | d | seed | iterations | outcome | Sinkhorn | "
      "divergence | KE | path KE | HJB | terminal | straightness | drift dt/2 "
      "| drift dt/8 | off-manifold std | it/s |\n",
      "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
      "\n");
  for (const RunRecord& x : r.runs) {
    const std::string outcome = Outcome(x);
    absl::StrAppend(&out, "| ", x.method, " | ", x.dataset, " | ", x.dimension,
                    " | ", x.seed, " | ", x.iterations_completed, "/",
                    x.iterations_requested, " | ", outcome, " | ",
                    Cell(x.sinkhorn), " | ", Cell(x.divergence), " | ",
                    Cell(x.kinetic_energy), " | ", Cell(x.path_kinetic_energy),
                    " | ", Cell(x.hjb), " | ", Cell(x.terminal), " | ",
                    Cell(x.straightness, "%.4f"), " | ", Cell(x.drift_dt2),
                    " | ", Cell(x.drift_dt8), " | ", Cell(x.off_manifold_std),
                    " | ", Cell(x.iterations_per_second, "%.1f"), " |\n");
  }
  absl::StrAppend(&out, StepProfiles(r), ChecksAndSeeds(r));
  absl::StrAppend(
      &out,
      "\nSinkhorn: debiased, p=2, blur 0.05, cost ½|x−y|², first two "
      "coordinates. Drift: mean ‖x_T(dt/k) − x_T(dt)‖ / mean ‖x_T − x_0‖ "
      "from the same seeds. Straightness: Σ‖x_T−x_0‖ / Σ‖x_{i+1}−x_i‖ over all "
      "samples (1 = straight paths). KE: the training's convention "
      "(detached post-step points by default, ALGORITHM.md §4); path KE: "
      "½Σ‖x_{i+1}−x_i‖²/dt over the Euler paths, ½∫E|v|²dt where the "
      "particles are. Diverged: a non-finite loss, or the "
      "critic's KL estimate past ",
      kBlowupNats,
      " nats to the end of the run (likelihood ratios of e^100: the "
      "f-divergence of mutually "
      "singular measures is infinite; the stable log-sum-exp keeps it "
      "finite in float32 where a naive log-mean-exp overflows).\n\nFigures per "
      "run: samples (grey: "
      "target, blue: generated, coordinates 0,1); training curves "
      "(`*_curves.png`, log10 y: blue |critic divergence estimate|, orange "
      "kinetic energy, against the iteration); off-manifold density "
      "(`*_offmanifold.png`, log10 y: blue the generated coordinates 2..d−1 "
      "pooled, grey the source's N(0,1); the data's are exactly 0).\n");
  for (const RunRecord& x : r.runs) {
    for (const std::string& plot : {x.plot, x.curve_plot, x.density_plot}) {
      if (!plot.empty()) {
        absl::StrAppend(&out, "\n![", x.method, " d=", x.dimension, " seed ",
                        x.seed, "](", plot, ")");
      }
    }
  }
  return absl::StrCat(out, "\n");
}

}  // namespace

absl::Status WriteReport(const std::string& dir, const Report& report) {
  PROXFLOW_RETURN_IF_ERROR(
      WriteFileAtomically(absl::StrCat(dir, "/report.json"), Json(report)));
  return WriteFileAtomically(absl::StrCat(dir, "/report.md"), Markdown(report));
}

}  // namespace proxflow::lab
