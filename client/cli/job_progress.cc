#include "client/cli/job_progress.h"

#include <algorithm>
#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/cli/output.h"

namespace proxflow::cli {

namespace pb = proxflow::v1;

namespace {

constexpr int kBarWidth = 24;

std::string Bar(double fraction) {
  const int filled = static_cast<int>(fraction * kBarWidth);
  std::string bar(static_cast<size_t>(kBarWidth), ' ');
  for (int i = 0; i < filled && i < kBarWidth; ++i) bar[i] = '=';
  if (filled < kBarWidth) bar[filled] = '>';
  return absl::StrCat("[", bar, "]");
}

double Fraction(const pb::JobProgress& p) {
  return p.max_step() > 0 ? std::clamp(static_cast<double>(p.step()) /
                                           static_cast<double>(p.max_step()),
                                       0.0, 1.0)
                          : 0.0;
}

}  // namespace

// The class monitor's metrics (core/class_monitor.h), in the order a user
// reads them.
constexpr const char* kClassMetrics[] = {
    "class_coverage", "largest_class_share", "class_entropy", "frechet"};

std::string ProgressText(const pb::JobProgress& p, int64_t batch_size,
                         int classes) {
  std::string text = absl::StrFormat("%d/%d %3d%%", p.step(), p.max_step(),
                                     static_cast<int>(Fraction(p) * 100));
  if (p.samples_per_second() > 0 && batch_size > 0) {
    absl::StrAppend(
        &text,
        absl::StrFormat("  %.1f it/s", p.samples_per_second() /
                                           static_cast<double>(batch_size)));
  }
  if (p.eta_seconds() > 0)
    absl::StrAppend(&text, "  ETA ", HumanSeconds(p.eta_seconds()));
  for (const char* name : {"divergence", "kinetic_energy"}) {
    if (auto it = p.metrics().find(name); it != p.metrics().end())
      absl::StrAppend(&text, "  ", name, " ", MetricText(it->second));
  }
  if (auto it = p.eval_metrics().find("class_coverage");
      it != p.eval_metrics().end()) {
    absl::StrAppend(&text, "  classes ", MetricText(it->second), "/",
                    classes > 0 ? classes : 10);
  }
  return text;
}

std::string EvalText(const pb::JobProgress& p) {
  if (p.eval_metrics().empty()) return "";
  std::string text = absl::StrCat("eval@", p.eval_step());
  for (const char* name : kClassMetrics) {
    if (auto it = p.eval_metrics().find(name); it != p.eval_metrics().end())
      absl::StrAppend(&text, "  ", name, " ", MetricText(it->second));
  }
  // The rest by name (a proto map has no order of its own).
  const std::map<std::string, double> rest(p.eval_metrics().begin(),
                                           p.eval_metrics().end());
  for (const auto& [name, value] : rest) {
    if (std::find(std::begin(kClassMetrics), std::end(kClassMetrics), name) ==
        std::end(kClassMetrics))
      absl::StrAppend(&text, "  ", name, " ", MetricText(value));
  }
  return text;
}

JobProgressView::JobProgressView(std::ostream& out, bool tty,
                                 int64_t batch_size, int classes)
    : out_(out), tty_(tty), batch_size_(batch_size), classes_(classes) {}

void JobProgressView::Line(const std::string& text) {
  if (bar_visible_) out_ << "\r\033[K";
  out_ << text << "\n";
  bar_visible_ = false;
  if (tty_ && have_progress_) DrawBar();
  out_.flush();
}

void JobProgressView::DrawBar() {
  out_ << "\r\033[K" << Bar(Fraction(latest_)) << " "
       << ProgressText(latest_, batch_size_, classes_);
  out_.flush();
  bar_visible_ = true;
}

void JobProgressView::OnEvent(const pb::JobEvent& event) {
  switch (event.kind_case()) {
    case pb::JobEvent::kStateChange: {
      const pb::JobStateChange& c = event.state_change();
      Line(absl::StrCat(
          event.job_id(), ": ",
          c.from() == pb::JOB_STATE_UNSPECIFIED
              ? ""
              : absl::StrCat(StateText(c.from()), " -> "),
          StateText(c.to()),
          c.attempt() > 1 ? absl::StrCat(" (attempt ", c.attempt(), ")") : "",
          c.reason().empty() ? "" : absl::StrCat(": ", c.reason())));
      break;
    }
    case pb::JobEvent::kProgress: {
      latest_ = event.progress();
      have_progress_ = true;
      if (latest_.eval_step() > last_eval_step_ &&
          !latest_.eval_metrics().empty()) {
        last_eval_step_ = latest_.eval_step();
        Line(EvalText(latest_));  // redraws the bar below it on a terminal
        if (tty_) break;
      }
      if (tty_) {
        DrawBar();
        break;
      }
      const int decile = static_cast<int>(Fraction(latest_) * 10);
      const absl::Time now = absl::Now();
      if (decile != last_decile_ || now - last_plain_ >= absl::Seconds(30)) {
        last_decile_ = decile;
        last_plain_ = now;
        Line(absl::StrCat("step ",
                          ProgressText(latest_, batch_size_, classes_)));
      }
      break;
    }
    case pb::JobEvent::kCheckpointSaved: {
      const pb::CheckpointSaved& s = event.checkpoint_saved();
      Line(absl::StrCat("checkpoint ", s.model(), "/", s.version(), " at step ",
                        s.step(), " (", HumanBytes(s.size_bytes()), ")"));
      break;
    }
    case pb::JobEvent::kHeartbeat:
    case pb::JobEvent::KIND_NOT_SET:
      break;
  }
}

void JobProgressView::OnReconnect(const absl::Status& cause) {
  Line(absl::StrCat("stream interrupted (", cause.message(),
                    "); reconnecting without losing events"));
}

void JobProgressView::Done(const pb::Job& job) {
  if (tty_ && have_progress_) {
    latest_ = job.progress();
    DrawBar();
    out_ << "\n";
    bar_visible_ = false;
  }
  std::string text =
      absl::StrCat(job.id(), " ", StateText(job.state()), " at step ",
                   job.progress().step(), "/", job.progress().max_step());
  if (!job.failure_reason().empty())
    absl::StrAppend(&text, ": ", job.failure_reason());
  Line(text);
}

}  // namespace proxflow::cli
