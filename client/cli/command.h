// What every `proxflow` command gets, and the exit codes they return.
// Thread-compatible (a command runs on the main thread).
#ifndef PROXFLOW_CLIENT_CLI_COMMAND_H_
#define PROXFLOW_CLIENT_CLI_COMMAND_H_

#include <functional>
#include <ostream>
#include <vector>

#include "absl/status/status.h"
#include "client/cli/args.h"
#include "client/connection.h"

namespace proxflow::cli {

// Exit codes, also listed by `proxflow --help`.
enum ExitCode : int {
  kExitOk = 0,
  kExitError = 1,         // the server or the file system said no
  kExitUsage = 2,         // bad flags, arguments or config (INVALID_ARGUMENT)
  kExitJobFailed = 3,     // a followed/watched job ended FAILED
  kExitJobCancelled = 4,  // ... or CANCELLED
};

enum class OutputFormat { kText, kJson };

struct Context {
  const client::Connection& connection;
  const Args& args;
  std::ostream& out;
  std::ostream& err;
  OutputFormat format = OutputFormat::kText;
  bool tty = false;  // `out` is a terminal: draw progress bars in place
};

struct Command {
  CommandSpec spec;
  std::function<int(Context&)> run;
};

std::vector<Command> TrainingCommands();  // train, jobs ...
std::vector<Command> DatasetCommands();   // datasets ...
std::vector<Command> RegistryCommands();  // models ..., ckpt ...
std::vector<Command> SampleCommands();    // sample
std::vector<Command> HealthCommands();    // health

// Prints "proxflow: <message>" (with a hint for an unreachable server) and
// returns the exit code for `status`.
int Fail(Context& context, const absl::Status& status);

}  // namespace proxflow::cli

#endif  // PROXFLOW_CLIENT_CLI_COMMAND_H_
