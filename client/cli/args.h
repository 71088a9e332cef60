// Command-line parsing for the `proxflow` CLI: each command declares its flags
// and positional arguments once, and the same declaration parses argv and
// writes --help. Flags: --name=value, --name value, -x value; boolean flags
// take no value; `--` ends the flags. Thread-compatible.
#ifndef PROXFLOW_CLIENT_CLI_ARGS_H_
#define PROXFLOW_CLIENT_CLI_ARGS_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace proxflow::cli {

struct Flag {
  std::string name;        // without dashes: "follow"
  std::string value_name;  // "FILE"; empty for a boolean flag
  std::string help;
  char short_name = 0;    // 'n' for -n
  bool repeated = false;  // may be given more than once (--set)
};

struct CommandSpec {
  std::string name;       // "jobs list"
  std::string arguments;  // "JOB_ID" as shown in the usage line
  int min_positional = 0;
  int max_positional = 0;
  std::string summary;  // one line for the command list
  std::string details;  // paragraphs after the usage line
  std::vector<Flag> flags;
};

class Args {
 public:
  const std::vector<std::string>& positional() const { return positional_; }
  bool help() const { return help_; }
  bool Has(const std::string& name) const { return values_.count(name) > 0; }
  // The last value given, or `fallback`.
  std::string Get(const std::string& name,
                  const std::string& fallback = "") const;
  std::vector<std::string> GetAll(const std::string& name) const;
  // INVALID_ARGUMENT naming the flag and value when it is not an integer in
  // [lo, hi].
  absl::StatusOr<int64_t> GetInt(const std::string& name, int64_t fallback,
                                 int64_t lo, int64_t hi) const;
  absl::StatusOr<double> GetDouble(const std::string& name,
                                   double fallback) const;

 private:
  friend absl::StatusOr<Args> ParseArgs(const CommandSpec&,
                                        const std::vector<Flag>&,
                                        const std::vector<std::string>&);
  std::vector<std::string> positional_;
  std::map<std::string, std::vector<std::string>> values_;
  bool help_ = false;
};

// Parses `argv` (after the command words) against the command's flags plus
// `global` ones. INVALID_ARGUMENT for an unknown flag (with a suggestion), a
// missing value, a repeated single flag or a wrong number of arguments.
absl::StatusOr<Args> ParseArgs(const CommandSpec& spec,
                               const std::vector<Flag>& global,
                               const std::vector<std::string>& argv);

// "usage: proxflow jobs list [flags]\n\n<details>\n\nflags:\n  --state STATE
// ..."
std::string HelpText(const CommandSpec& spec, const std::vector<Flag>& global);

}  // namespace proxflow::cli

#endif  // PROXFLOW_CLIENT_CLI_ARGS_H_
