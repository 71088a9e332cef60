#include "client/cli/cli.h"

#include <cstdlib>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/cli/command.h"

namespace proxflow::cli {
namespace {

std::string Env(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

std::vector<Flag> GlobalFlags() {
  return {
      {"server", "HOST:PORT",
       "proxflow-server address (env PROXFLOW_SERVER; default "
       "127.0.0.1:50051)"},
      {"token", "TOKEN", "bearer token (env PROXFLOW_TOKEN)"},
      {"tls", "", "connect with TLS"},
      {"tls_ca", "FILE",
       "PEM roots that sign the server's certificate (default: system)"},
      {"tls_cert", "FILE", "PEM client certificate for mTLS (with --tls_key)"},
      {"tls_key", "FILE", "PEM private key of --tls_cert"},
      {"tls_server_name", "NAME",
       "name to check the server's certificate against"},
      {"timeout", "SECONDS", "deadline of each unary call (default 30)"},
      {"output", "FORMAT", "text (default) or json, for scripts"},
  };
}

std::vector<Command> AllCommands() {
  std::vector<Command> all;
  for (auto part : {TrainingCommands(), DatasetCommands(), RegistryCommands(),
                    SampleCommands(), HealthCommands()})
    for (Command& c : part) all.push_back(std::move(c));
  return all;
}

std::string TopHelp(const std::vector<Command>& commands) {
  std::string out =
      "usage: proxflow [--server HOST:PORT] [--token TOKEN] COMMAND [flags] "
      "[args]\n\n"
      "Train, inspect and sample W1+W2 proximal generative flows on a "
      "proxflow-server.\n\n"
      "commands:\n";
  for (const Command& c : commands) {
    std::string head = absl::StrCat(
        c.spec.name, c.spec.arguments.empty() ? "" : " ", c.spec.arguments);
    if (head.size() < 30) head.resize(30, ' ');
    absl::StrAppend(&out, "  ", head, " ", c.spec.summary, "\n");
  }
  absl::StrAppend(
      &out,
      "\n`proxflow COMMAND --help` shows a command's flags.\n"
      "exit codes: 0 ok; 1 error from the server or the file system; 2 bad "
      "flags, arguments or config;\n  3 a followed job FAILED; 4 it was "
      "CANCELLED.\n");
  return out;
}

bool TakesValue(const std::vector<Flag>& flags, absl::string_view arg) {
  if (!absl::StartsWith(arg, "--") || absl::StrContains(arg, "=")) return false;
  for (const Flag& f : flags)
    if (arg.substr(2) == f.name) return !f.value_name.empty();
  return false;
}

}  // namespace

int Fail(Context& ctx, const absl::Status& status) {
  ctx.err << "proxflow: " << status.message();
  if (absl::IsUnavailable(status)) {
    ctx.err << " (is proxflow-server running at "
            << ctx.connection.options().target
            << "? set --server or PROXFLOW_SERVER)";
  } else if (absl::IsDeadlineExceeded(status)) {
    ctx.err << " (raise --timeout for slow calls)";
  } else if (absl::IsUnauthenticated(status) ||
             absl::IsPermissionDenied(status)) {
    ctx.err << " (check --token or PROXFLOW_TOKEN)";
  }
  ctx.err << " [" << absl::StatusCodeToString(status.code()) << "]\n";
  return absl::IsInvalidArgument(status) ? kExitUsage : kExitError;
}

int RunCli(const std::vector<std::string>& argv, std::ostream& out,
           std::ostream& err, bool tty) {
  const std::vector<Flag> global = GlobalFlags();
  const std::vector<Command> commands = AllCommands();
  // Global flags may come before the command words.
  std::vector<std::string> leading;
  size_t i = 0;
  while (i < argv.size() && absl::StartsWith(argv[i], "-") &&
         argv[i] != "--help" && argv[i] != "-h") {
    leading.push_back(argv[i]);
    if (TakesValue(global, argv[i]) && i + 1 < argv.size())
      leading.push_back(argv[++i]);
    ++i;
  }
  if (i >= argv.size() || argv[i] == "--help" || argv[i] == "-h" ||
      argv[i] == "help") {
    out << TopHelp(commands);
    return i >= argv.size() ? kExitUsage : kExitOk;
  }
  const Command* command = nullptr;
  size_t words = 0;
  for (const Command& c : commands) {
    const std::string two =
        i + 1 < argv.size() ? argv[i] + " " + argv[i + 1] : "";
    if (c.spec.name == two) {
      command = &c;
      words = 2;
      break;
    }
    if (c.spec.name == argv[i]) {
      command = &c;
      words = 1;
    }
  }
  if (command == nullptr) {
    // A group without (or with an unknown) verb: list the group.
    std::string group_help;
    for (const Command& c : commands) {
      if (absl::StartsWith(c.spec.name, argv[i] + " "))
        absl::StrAppend(&group_help, "  ", c.spec.name, "  ", c.spec.summary,
                        "\n");
    }
    const bool asked =
        i + 1 < argv.size() && (argv[i + 1] == "--help" || argv[i + 1] == "-h");
    if (!group_help.empty()) {
      (asked ? out : err) << (asked ? ""
                                    : absl::StrCat("proxflow: `", argv[i],
                                                   "` needs one of:\n"))
                          << group_help;
      return asked ? kExitOk : kExitUsage;
    }
    err << "proxflow: unknown command \"" << argv[i]
        << "\"; see proxflow --help\n";
    return kExitUsage;
  }
  std::vector<std::string> rest = leading;
  rest.insert(rest.end(), argv.begin() + static_cast<std::ptrdiff_t>(i + words),
              argv.end());
  absl::StatusOr<Args> args = ParseArgs(command->spec, global, rest);
  if (!args.ok()) {
    err << "proxflow: " << args.status().message() << "\n";
    return kExitUsage;
  }
  if (args->help()) {
    out << HelpText(command->spec, global);
    return kExitOk;
  }

  client::ClientOptions options;
  options.target =
      args->Get("server", Env("PROXFLOW_SERVER", "127.0.0.1:50051"));
  options.token = args->Get("token", Env("PROXFLOW_TOKEN", ""));
  options.tls.enabled =
      args->Has("tls") || args->Has("tls_ca") || args->Has("tls_cert");
  options.tls.ca_file = args->Get("tls_ca");
  options.tls.cert_file = args->Get("tls_cert");
  options.tls.key_file = args->Get("tls_key");
  options.tls.server_name = args->Get("tls_server_name");
  absl::StatusOr<double> timeout = args->GetDouble("timeout", 30);
  if (!timeout.ok() || *timeout <= 0) {
    err << "proxflow: --timeout must be a number of seconds > 0, got \""
        << args->Get("timeout") << "\"\n";
    return kExitUsage;
  }
  options.rpc_timeout = absl::Seconds(*timeout);
  const std::string output = args->Get("output", "text");
  if (output != "text" && output != "json") {
    err << "proxflow: --output must be text or json, got \"" << output
        << "\"\n";
    return kExitUsage;
  }
  absl::StatusOr<std::unique_ptr<client::Connection>> connection =
      client::Connection::Open(options);
  if (!connection.ok()) {
    err << "proxflow: " << connection.status().message() << "\n";
    return kExitUsage;
  }
  Context context{**connection,
                  *args,
                  out,
                  err,
                  output == "json" ? OutputFormat::kJson : OutputFormat::kText,
                  tty};
  return command->run(context);
}

}  // namespace proxflow::cli
