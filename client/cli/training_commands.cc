// train, jobs list|get|watch|cancel.

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "client/cli/command.h"
#include "client/cli/job_progress.h"
#include "client/cli/output.h"
#include "client/config_document.h"
#include "client/training_client.h"

namespace proxflow::cli {
namespace {

namespace pb = proxflow::v1;

int ExitCodeFor(const pb::Job& job) {
  switch (job.state()) {
    case pb::JOB_STATE_SUCCEEDED:
      return kExitOk;
    case pb::JOB_STATE_CANCELLED:
      return kExitJobCancelled;
    default:
      return kExitJobFailed;
  }
}

// Follows `job_id` to its end: a progress view for people, JSON Lines of the
// events for scripts. The exit code says how the job ended.
// --reconnect_for: how long a watch rides out a server that does not answer.
absl::StatusOr<absl::Duration> ReconnectBudget(const Context& ctx) {
  const std::string text = ctx.args.Get("reconnect_for", "5m");
  absl::Duration d;
  if (!absl::ParseDuration(text, &d) || d < absl::ZeroDuration() ||
      d > absl::Hours(24 * 7)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--reconnect_for must be a duration from 0s to 168h (e.g. 30s, 5m, "
        "1h), got \"",
        text, "\""));
  }
  return d;
}

int Follow(Context& ctx, const std::string& job_id, int64_t after_sequence,
           bool full_history) {
  absl::StatusOr<absl::Duration> budget = ReconnectBudget(ctx);
  if (!budget.ok()) return Fail(ctx, budget.status());
  client::TrainingClient jobs(ctx.connection);
  absl::StatusOr<pb::Job> job = jobs.Get(job_id);
  if (!job.ok()) return Fail(ctx, job.status());
  JobProgressView view(ctx.out, ctx.tty, job->resolved_config().batch_size(),
                       job->resolved_config().dataset().mnist_labels_size());
  const bool json = ctx.format == OutputFormat::kJson;
  if (!json) {
    ctx.err << "following " << job_id
            << " (Ctrl-C stops following; the job keeps running: proxflow "
               "jobs cancel "
            << job_id << ")\n";
  }
  client::WatchOptions options;
  options.after_sequence = after_sequence;
  options.full_history = full_history;
  options.reconnect_budget = *budget;
  job = jobs.Watch(
      job_id, options,
      [&](const pb::JobEvent& event) {
        if (json) {
          if (event.has_heartbeat()) return absl::OkStatus();
          PrintJsonLine(ctx.out, event);
        } else {
          view.OnEvent(event);
        }
        return absl::OkStatus();
      },
      [&](const client::ReconnectNotice& notice) {
        // On stderr in both formats: stdout stays the events.
        ctx.err << "proxflow: " << job_id << ": the server does not answer ("
                << notice.cause.message() << "); attempt " << notice.attempt
                << " in " << HumanSeconds(absl::ToDoubleSeconds(notice.delay))
                << ", giving up in "
                << HumanSeconds(
                       absl::ToDoubleSeconds(notice.delay + notice.remaining))
                << " (--reconnect_for)\n";
        if (!json) view.OnReconnect(notice.cause);
      });
  if (!job.ok()) return Fail(ctx, job.status());
  if (!json) view.Done(*job);
  return ExitCodeFor(*job);
}

absl::StatusOr<pb::JobState> ParseState(const std::string& text) {
  const std::string upper = absl::AsciiStrToUpper(text);
  pb::JobState state;
  if (pb::JobState_Parse(upper, &state) ||
      pb::JobState_Parse("JOB_STATE_" + upper, &state)) {
    return state;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "--state must be one of queued, running, cancelling, cancelled, "
      "succeeded, failed, restarting; got \"",
      text, "\""));
}

std::string ModelOf(const pb::Job& job) {
  return job.resolved_config().model().empty() ? job.config().model()
                                               : job.resolved_config().model();
}

int Train(Context& ctx) {
  client::ConfigDocument doc;
  if (ctx.args.Has("config")) {
    absl::StatusOr<client::ConfigDocument> loaded =
        client::ConfigDocument::Load(ctx.args.Get("config"));
    if (!loaded.ok()) return Fail(ctx, loaded.status());
    doc = *std::move(loaded);
  } else if (!ctx.args.Has("preset")) {
    return Fail(ctx, absl::InvalidArgumentError(
                         "train needs --preset NAME or --config FILE "
                         "(see proxflow train --help)"));
  }
  if (ctx.args.Has("preset")) {
    if (absl::Status s = doc.Set("preset=" + ctx.args.Get("preset")); !s.ok())
      return Fail(ctx, s);
  }
  for (const std::string& assignment : ctx.args.GetAll("set")) {
    if (absl::Status s = doc.Set(assignment); !s.ok()) return Fail(ctx, s);
  }
  pb::TrainingConfig config;
  if (absl::Status s = doc.ToMessage(&config); !s.ok()) return Fail(ctx, s);

  client::SubmitOptions options;
  options.validate_only = ctx.args.Has("validate_only");
  options.request_id = ctx.args.Get("request_id");
  absl::StatusOr<pb::SubmitJobResponse> response =
      client::TrainingClient(ctx.connection).Submit(config, options);
  if (!response.ok()) return Fail(ctx, doc.Annotate(response.status()));
  const pb::Job& job = response->job();
  if (options.validate_only) {
    if (ctx.format == OutputFormat::kText)
      ctx.out << "config is valid; it resolves to:\n";
    PrintJson(ctx.out, job.resolved_config());
    return kExitOk;
  }
  if (ctx.format == OutputFormat::kJson && !ctx.args.Has("follow")) {
    PrintJson(ctx.out, *response);
    return kExitOk;
  }
  if (ctx.format == OutputFormat::kText) {
    ctx.out << (response->created() ? "submitted " : "already submitted ")
            << job.id() << ": model " << ModelOf(job) << ", "
            << job.resolved_config().iterations() << " iterations, state "
            << StateText(job.state()) << "\n";
  }
  if (!ctx.args.Has("follow")) return kExitOk;
  return Follow(ctx, job.id(), 0, ctx.args.Has("full_history"));
}

int JobsList(Context& ctx) {
  std::vector<pb::JobState> states;
  for (const std::string& s : ctx.args.GetAll("state")) {
    absl::StatusOr<pb::JobState> state = ParseState(s);
    if (!state.ok()) return Fail(ctx, state.status());
    states.push_back(*state);
  }
  absl::StatusOr<std::vector<pb::Job>> jobs =
      client::TrainingClient(ctx.connection).List(states);
  if (!jobs.ok()) return Fail(ctx, jobs.status());
  if (ctx.format == OutputFormat::kJson) {
    PrintJsonList<pb::ListJobsResponse>(
        ctx.out, *jobs, [](auto* r) { return r->mutable_jobs(); });
    return kExitOk;
  }
  Table table({"ID", "STATE", "MODEL", "STEP", "DEVICE", "CREATED"});
  for (const pb::Job& j : *jobs) {
    table.AddRow(
        {j.id(), StateText(j.state()), ModelOf(j),
         absl::StrCat(j.progress().step(), "/", j.progress().max_step()),
         j.device().empty() ? "-" : j.device(), TimeText(j.create_time())});
  }
  table.Print(ctx.out);
  return kExitOk;
}

void PrintJobText(std::ostream& out, const pb::Job& j) {
  const auto row = [&](const std::string& k, const std::string& v) {
    out << k << std::string(k.size() < 16 ? 16 - k.size() : 1, ' ') << v
        << "\n";
  };
  row("id", j.id());
  row("state",
      absl::StrCat(
          StateText(j.state()),
          j.attempt() > 1 ? absl::StrCat(" (attempt ", j.attempt(), ")") : ""));
  row("model", ModelOf(j));
  row("preset", j.resolved_config().preset());
  row("progress",
      ProgressText(j.progress(), j.resolved_config().batch_size(),
                   j.resolved_config().dataset().mnist_labels_size()));
  row("device", j.device().empty() ? "-" : j.device());
  row("checkpoint", j.checkpoint_step() > 0
                        ? absl::StrCat("step ", j.checkpoint_step())
                        : "-");
  row("created", TimeText(j.create_time()));
  row("started", TimeText(j.start_time()));
  row("ended", TimeText(j.end_time()));
  if (!j.failure_reason().empty()) row("failure", j.failure_reason());
  std::vector<std::string> metrics;
  for (const auto& [k, v] : j.progress().metrics())
    metrics.push_back(absl::StrCat(k, "=", MetricText(v)));
  std::sort(metrics.begin(), metrics.end());
  if (!metrics.empty())
    row(absl::StrCat("metrics@", j.progress().metrics_step()),
        absl::StrJoin(metrics, " "));
  std::vector<std::string> eval;
  for (const auto& [k, v] : j.progress().eval_metrics())
    eval.push_back(absl::StrCat(k, "=", MetricText(v)));
  std::sort(eval.begin(), eval.end());
  if (!eval.empty())
    row(absl::StrCat("eval@", j.progress().eval_step()),
        absl::StrJoin(eval, " "));
}

int JobsGet(Context& ctx) {
  absl::StatusOr<pb::Job> job =
      client::TrainingClient(ctx.connection).Get(ctx.args.positional()[0]);
  if (!job.ok()) return Fail(ctx, job.status());
  if (ctx.format == OutputFormat::kJson) {
    PrintJson(ctx.out, *job);
  } else {
    PrintJobText(ctx.out, *job);
  }
  return kExitOk;
}

int JobsWatch(Context& ctx) {
  absl::StatusOr<int64_t> after =
      ctx.args.GetInt("after", 0, 0, std::numeric_limits<int64_t>::max());
  if (!after.ok()) return Fail(ctx, after.status());
  return Follow(ctx, ctx.args.positional()[0], *after,
                ctx.args.Has("full_history"));
}

int JobsCancel(Context& ctx) {
  absl::StatusOr<pb::Job> job =
      client::TrainingClient(ctx.connection).Cancel(ctx.args.positional()[0]);
  if (!job.ok()) return Fail(ctx, job.status());
  if (ctx.format == OutputFormat::kJson) {
    PrintJson(ctx.out, *job);
  } else {
    ctx.out << job->id() << " " << StateText(job->state())
            << (job->state() == pb::JOB_STATE_CANCELLING
                    ? " (saving a checkpoint, then CANCELLED)"
                    : "")
            << "\n";
  }
  return kExitOk;
}

const Flag kFullHistory{"full_history", "",
                        "every progress event (none coalesced)"};
const Flag kReconnectFor{"reconnect_for", "DURATION",
                         "keep reconnecting this long while the server does "
                         "not answer (default 5m)"};

}  // namespace

std::vector<Command> TrainingCommands() {
  return {
      {{"train",
        "",
        0,
        0,
        "Submit a training job.",
        "The job is a proxflow.v1.TrainingConfig written as YAML or JSON (the "
        "protobuf\n"
        "JSON mapping; proto or JSON field names) and/or a preset (toy-2d, "
        "manifold-7d,\n"
        "manifold-12d, mnist, mnist-paper) that fills every field left unset. "
        "--set "
        "overrides one\n"
        "field by its path, after the file: --set critic.network.width=128.\n"
        "Errors name the file, line and field. With --follow, exits 0 only if "
        "the job\n"
        "SUCCEEDED (3: FAILED, 4: CANCELLED).",
        {{"config", "FILE", "YAML or JSON TrainingConfig"},
         {"preset", "NAME",
          "toy-2d, manifold-7d, manifold-12d, mnist or mnist-paper"},
         {"set", "PATH=VALUE", "override one field", 0, true},
         {"follow", "", "watch the job to its end with a progress bar", 'f'},
         kFullHistory,
         kReconnectFor,
         {"validate_only", "", "resolve and check the config; queue nothing"},
         {"request_id", "ID",
          "idempotency key (default: a fresh random one)"}}},
       Train},
      {{"jobs list",
        "",
        0,
        0,
        "List jobs, oldest first.",
        "",
        {{"state", "STATE", "only jobs in this state (queued, running, ...)", 0,
          true}}},
       JobsList},
      {{"jobs get",
        "JOB_ID",
        1,
        1,
        "Show one job: state, progress, metrics.",
        "",
        {}},
       JobsGet},
      {{"jobs watch",
        "JOB_ID",
        1,
        1,
        "Follow a job's events to its end.",
        "Reconnects after a dropped stream from the last event seen, for up "
        "to\n--reconnect_for while the server does not answer. Exits 0 "
        "only if\n"
        "the job SUCCEEDED (3: FAILED, 4: CANCELLED). --output json prints one "
        "JSON\n"
        "event per line.",
        {{"after", "SEQ", "start after this event sequence (default 0: all)"},
         kFullHistory,
         kReconnectFor}},
       JobsWatch},
      {{"jobs cancel",
        "JOB_ID",
        1,
        1,
        "Cancel a job: it saves a checkpoint, then ends CANCELLED.",
        "",
        {}},
       JobsCancel},
  };
}

}  // namespace proxflow::cli
