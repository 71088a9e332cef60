#include "client/cli/output.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"

namespace proxflow::cli {

namespace {

// Proto field names and every field, as scripts expect them.
void WriteJson(std::ostream& out, const google::protobuf::Message& message,
               bool pretty) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = pretty;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string json;
  // Cannot fail for messages without Any fields, which ours do not have.
  google::protobuf::util::MessageToJsonString(message, &json, options).ok();
  out << json;
  if (json.empty() || json.back() != '\n') out << "\n";
}

}  // namespace

void PrintJson(std::ostream& out, const google::protobuf::Message& message) {
  WriteJson(out, message, /*pretty=*/true);
}

void PrintJsonLine(std::ostream& out,
                   const google::protobuf::Message& message) {
  WriteJson(out, message, /*pretty=*/false);
  out.flush();
}

Table::Table(std::vector<std::string> headers) {
  rows_.push_back(std::move(headers));
}

void Table::AddRow(std::vector<std::string> cells) {
  rows_.push_back(std::move(cells));
}

void Table::Print(std::ostream& out) const {
  if (rows_.size() == 1) {
    out << "(none)\n";
    return;
  }
  std::vector<size_t> width;
  for (const auto& row : rows_) {
    if (width.size() < row.size()) width.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i)
      width[i] = std::max(width[i], row[i].size());
  }
  for (const auto& row : rows_) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size())
        line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    out << line << "\n";
  }
}

std::string HumanBytes(int64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  return u == 0 ? absl::StrFormat("%d B", bytes)
                : absl::StrFormat("%.1f %s", v, units[u]);
}

std::string HumanSeconds(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const int64_t s = static_cast<int64_t>(std::llround(seconds));
  if (s >= 3600) return absl::StrFormat("%dh%02dm", s / 3600, (s % 3600) / 60);
  if (s >= 60) return absl::StrFormat("%dm%02ds", s / 60, s % 60);
  return absl::StrFormat("%ds", s);
}

std::string TimeText(const google::protobuf::Timestamp& time) {
  if (time.seconds() == 0 && time.nanos() == 0) return "-";
  return absl::FormatTime("%Y-%m-%d %H:%M:%S",
                          absl::FromUnixSeconds(time.seconds()),
                          absl::UTCTimeZone());
}

std::string ShortEnum(const std::string& enum_name, const std::string& prefix) {
  return absl::StartsWith(enum_name, prefix) ? enum_name.substr(prefix.size())
                                             : enum_name;
}

std::string StateText(proxflow::v1::JobState state) {
  return ShortEnum(proxflow::v1::JobState_Name(state), "JOB_STATE_");
}

std::string MetricText(double value) { return absl::StrFormat("%.4g", value); }

}  // namespace proxflow::cli
