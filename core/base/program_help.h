// What every proxflow binary built on Abseil flags answers to --help: its
// usage (command lines, subcommands) and then every flag its own sources
// define, grouped by source file. Abseil's default lists only the flags of a
// file named after the binary, which ours are not ("No flags matched").
// Torch-free; call once from main() before absl::ParseCommandLine.
#ifndef PROXFLOW_CORE_BASE_PROGRAM_HELP_H_
#define PROXFLOW_CORE_BASE_PROGRAM_HELP_H_

#include "absl/strings/string_view.h"

namespace proxflow {

// `usage`: the program's description and command lines, printed first.
// --help and --helpshort list the flags of proxflow's sources (paths shown
// relative to the source tree); --helpfull adds Abseil's own.
void SetProgramHelp(absl::string_view usage);

}  // namespace proxflow

#endif  // PROXFLOW_CORE_BASE_PROGRAM_HELP_H_
