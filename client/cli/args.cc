#include "client/cli/args.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "client/suggest.h"

namespace proxflow::cli {
namespace {

const Flag* Find(const std::vector<const Flag*>& flags, absl::string_view name,
                 char short_name) {
  for (const Flag* f : flags) {
    if ((short_name != 0 && f->short_name == short_name) ||
        (short_name == 0 && f->name == name)) {
      return f;
    }
  }
  return nullptr;
}

std::string Closest(const std::vector<const Flag*>& flags,
                    absl::string_view name) {
  std::vector<std::string> names;
  for (const Flag* f : flags) names.push_back(f->name);
  std::string best = client::ClosestName(name, names);
  for (const Flag* f :
       flags) {  // a prefix is as good a hint: --iter → --iterations
    if (best.empty() && absl::StartsWith(f->name, name)) best = f->name;
  }
  return best.empty() ? "" : absl::StrCat(" (did you mean --", best, "?)");
}

std::string FlagLine(const Flag& f) {
  std::string head =
      f.short_name != 0
          ? absl::StrCat("-", std::string(1, f.short_name), ", --", f.name)
          : absl::StrCat("--", f.name);
  if (!f.value_name.empty()) absl::StrAppend(&head, " ", f.value_name);
  if (head.size() < 28) head.resize(28, ' ');
  return absl::StrCat("  ", head, " ", f.help,
                      f.repeated ? " (repeatable)" : "", "\n");
}

}  // namespace

std::string Args::Get(const std::string& name,
                      const std::string& fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second.back();
}

std::vector<std::string> Args::GetAll(const std::string& name) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::vector<std::string>() : it->second;
}

absl::StatusOr<int64_t> Args::GetInt(const std::string& name, int64_t fallback,
                                     int64_t lo, int64_t hi) const {
  if (!Has(name)) return fallback;
  const std::string text = Get(name);
  int64_t v = 0;
  if (!absl::SimpleAtoi(text, &v) || v < lo || v > hi) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, " must be an integer in [", lo, ", ", hi,
                     "], got \"", text, "\""));
  }
  return v;
}

absl::StatusOr<double> Args::GetDouble(const std::string& name,
                                       double fallback) const {
  if (!Has(name)) return fallback;
  const std::string text = Get(name);
  double v = 0;
  if (!absl::SimpleAtod(text, &v)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, " must be a number, got \"", text, "\""));
  }
  return v;
}

absl::StatusOr<Args> ParseArgs(const CommandSpec& spec,
                               const std::vector<Flag>& global,
                               const std::vector<std::string>& argv) {
  std::vector<const Flag*> flags;
  for (const Flag& f : spec.flags) flags.push_back(&f);
  for (const Flag& f : global) flags.push_back(&f);
  Args args;
  bool flags_done = false;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (flags_done || a.size() < 2 || a[0] != '-' || a == "-") {
      args.positional_.push_back(a);
      continue;
    }
    if (a == "--") {
      flags_done = true;
      continue;
    }
    if (a == "--help" || a == "-h") {
      args.help_ = true;
      continue;
    }
    const bool is_long = absl::StartsWith(a, "--");
    std::string name = a.substr(is_long ? 2 : 1);
    std::string value;
    bool has_value = false;
    if (const size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
      has_value = true;
    }
    const Flag* flag =
        is_long ? Find(flags, name, 0)
                : (name.size() == 1 ? Find(flags, "", name[0]) : nullptr);
    if (flag == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown flag ", a.substr(0, a.find('=')), " for `", spec.name, "`",
          Closest(flags, name), "; see proxflow ", spec.name, " --help"));
    }
    if (flag->value_name.empty()) {
      if (has_value && value != "true" && value != "false") {
        return absl::InvalidArgumentError(absl::StrCat(
            "--", flag->name, " takes no value (or =true/=false), got \"",
            value, "\""));
      }
      if (value == "false") {
        args.values_.erase(flag->name);
        continue;
      }
      value = "true";
    } else if (!has_value) {
      if (i + 1 >= argv.size()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--", flag->name, " needs a value (", flag->value_name, ")"));
      }
      value = argv[++i];
    }
    std::vector<std::string>& slot = args.values_[flag->name];
    if (!slot.empty() && !flag->repeated && !flag->value_name.empty() &&
        slot.back() != value) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", flag->name, " is given twice (\"", slot.back(),
                       "\" and \"", value, "\")"));
    }
    slot.push_back(value);
  }
  if (args.help_) return args;
  const int n = static_cast<int>(args.positional_.size());
  if (n < spec.min_positional || n > spec.max_positional) {
    return absl::InvalidArgumentError(absl::StrCat(
        "`proxflow ", spec.name, "` takes ",
        spec.min_positional == spec.max_positional
            ? absl::StrCat(spec.min_positional)
            : absl::StrCat(spec.min_positional, " to ", spec.max_positional),
        " argument", spec.max_positional == 1 ? "" : "s",
        spec.arguments.empty() ? "" : absl::StrCat(" (", spec.arguments, ")"),
        ", got ", n, "; see proxflow ", spec.name, " --help"));
  }
  return args;
}

std::string HelpText(const CommandSpec& spec, const std::vector<Flag>& global) {
  std::string out = absl::StrCat("usage: proxflow ", spec.name,
                                 spec.flags.empty() ? "" : " [flags]",
                                 spec.arguments.empty() ? "" : " ",
                                 spec.arguments, "\n\n", spec.summary, "\n");
  if (!spec.details.empty()) absl::StrAppend(&out, "\n", spec.details, "\n");
  if (!spec.flags.empty()) {
    absl::StrAppend(&out, "\nflags:\n");
    for (const Flag& f : spec.flags) absl::StrAppend(&out, FlagLine(f));
  }
  absl::StrAppend(&out, "\nconnection and output flags (any command):\n");
  for (const Flag& f : global) absl::StrAppend(&out, FlagLine(f));
  return out;
}

}  // namespace proxflow::cli
