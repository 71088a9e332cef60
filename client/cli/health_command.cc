// health [--service NAME] [--wait SECONDS]
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/cli/command.h"
#include "client/health_client.h"

namespace proxflow::cli {
namespace {

namespace hpb = grpc::health::v1;

int Health(Context& ctx) {
  absl::StatusOr<double> wait = ctx.args.GetDouble("wait", 0);
  if (!wait.ok() || *wait < 0) {
    return Fail(ctx, absl::InvalidArgumentError(absl::StrCat(
                         "--wait must be a number of seconds >= 0, got \"",
                         ctx.args.Get("wait"), "\"")));
  }
  const std::string service = ctx.args.Get("service");
  const absl::Time deadline = absl::Now() + absl::Seconds(*wait);
  client::HealthClient health(ctx.connection);
  absl::StatusOr<hpb::HealthCheckResponse::ServingStatus> status;
  while (true) {
    status = health.Check(service);
    if ((status.ok() && *status == hpb::HealthCheckResponse::SERVING) ||
        absl::Now() >= deadline) {
      break;
    }
    absl::SleepFor(
        absl::Milliseconds(200));  // polling a state, bounded by --wait
  }
  if (!status.ok()) return Fail(ctx, status.status());
  ctx.out << hpb::HealthCheckResponse::ServingStatus_Name(*status) << "\n";
  return *status == hpb::HealthCheckResponse::SERVING ? kExitOk : kExitError;
}

}  // namespace

std::vector<Command> HealthCommands() {
  return {
      {{"health",
        "",
        0,
        0,
        "Is the server ready? (grpc.health.v1; exit 0 only when SERVING)",
        "SERVING once storage is open and recovery is done; NOT_SERVING while "
        "it drains.\n"
        "Container health checks and scripts use it: proxflow health --wait "
        "30.",
        {{"service", "NAME",
          "one service, e.g. proxflow.v1.SamplingService (default: all)"},
         {"wait", "SECONDS",
          "poll until SERVING or this many seconds pass (default 0)"}}},
       Health},
  };
}

}  // namespace proxflow::cli
