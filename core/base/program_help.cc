#include "core/base/program_help.h"

#include <string>

#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"

namespace proxflow {
namespace {

// The source tree's root as this file was compiled: __FILE__ less
// "core/base/program_help.cc".
absl::string_view SourceRoot() {
  constexpr absl::string_view kSelf = "core/base/program_help.cc";
  const absl::string_view file = __FILE__;
  return absl::EndsWith(file, kSelf)
             ? file.substr(0, file.size() - kSelf.size())
             : absl::string_view();
}

bool IsOurs(absl::string_view file) {
  return !absl::StrContains(file, "absl/");
}

}  // namespace

void SetProgramHelp(absl::string_view usage) {
  absl::FlagsUsageConfig config;
  config.contains_helpshort_flags = IsOurs;
  config.contains_help_flags = IsOurs;
  config.normalize_filename = [](absl::string_view file) {
    const absl::string_view root = SourceRoot();
    if (!root.empty() && absl::StartsWith(file, root))
      file.remove_prefix(root.size());
    return std::string(file);
  };
  absl::SetFlagsUsageConfig(config);
  absl::SetProgramUsageMessage(usage);
}

}  // namespace proxflow
