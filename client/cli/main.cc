// proxflow: the command-line client of proxflow-server. See `proxflow --help`.
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "client/cli/cli.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  const char* term = std::getenv("TERM");
  const bool tty = isatty(STDOUT_FILENO) == 1 &&
                   (term == nullptr || std::strcmp(term, "dumb") != 0);
  return proxflow::cli::RunCli(args, std::cout, std::cerr, tty);
}
