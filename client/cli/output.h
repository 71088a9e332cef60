// Output of the `proxflow` CLI: aligned text tables for people, protobuf JSON
// (proto field names, every field printed) for scripts. Thread-compatible.
#ifndef PROXFLOW_CLIENT_CLI_OUTPUT_H_
#define PROXFLOW_CLIENT_CLI_OUTPUT_H_

#include <google/protobuf/message.h>
#include <google/protobuf/timestamp.pb.h>

#include <ostream>
#include <string>
#include <vector>

#include "proxflow/v1/job.pb.h"

namespace proxflow::cli {

// One JSON document (pretty-printed, newline-terminated).
void PrintJson(std::ostream& out, const google::protobuf::Message& message);
// One JSON document on one line (JSON Lines, for streams of events).
void PrintJsonLine(std::ostream& out, const google::protobuf::Message& message);

// Prints `items` as one JSON document of the List response type that holds
// them (`field(response)` returns its repeated field), e.g.
//   PrintJsonList<pb::ListJobsResponse>(out, jobs, [](auto* r) { return
//   r->mutable_jobs(); });
template <typename Response, typename Item, typename Field>
void PrintJsonList(std::ostream& out, const std::vector<Item>& items,
                   Field field) {
  Response all;
  for (const Item& item : items) *field(&all)->Add() = item;
  PrintJson(out, all);
}

class Table {
 public:
  explicit Table(std::vector<std::string> headers);
  void AddRow(std::vector<std::string> cells);
  // Columns padded to their widest cell; "(none)" when there are no rows.
  void Print(std::ostream& out) const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

std::string HumanBytes(int64_t bytes);     // "12.3 KiB"
std::string HumanSeconds(double seconds);  // "1h02m", "3m07s", "12s"
std::string TimeText(
    const google::protobuf::Timestamp& time);         // UTC, "-" if unset
std::string StateText(proxflow::v1::JobState state);  // "RUNNING"
// `enum_name` without its prefix: "CHECKPOINT_STATUS_READY" → "READY".
std::string ShortEnum(const std::string& enum_name, const std::string& prefix);
// Compact number for metrics: "0.0123", "1.2e-05".
std::string MetricText(double value);

}  // namespace proxflow::cli

#endif  // PROXFLOW_CLIENT_CLI_OUTPUT_H_
