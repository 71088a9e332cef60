// The `proxflow` command line: global connection/output flags, the command
// table, help, and the exit codes of command.h. Thread-compatible.
#ifndef PROXFLOW_CLIENT_CLI_CLI_H_
#define PROXFLOW_CLIENT_CLI_CLI_H_

#include <ostream>
#include <string>
#include <vector>

namespace proxflow::cli {

// `argv` without the program name. `tty`: `out` is a terminal.
int RunCli(const std::vector<std::string>& argv, std::ostream& out,
           std::ostream& err, bool tty);

}  // namespace proxflow::cli

#endif  // PROXFLOW_CLIENT_CLI_CLI_H_
