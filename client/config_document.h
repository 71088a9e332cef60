// ConfigDocument: a protobuf message (a TrainingConfig, typically) written as
// YAML or JSON by a person, converted by protobuf's JSON mapping (one schema,
// no hand-written field table) and remembering where every field came from, so
// that errors point at a line.
//
// JSON is read as YAML (JSON is YAML's flow style), so both formats give the
// same line numbers and the same messages. Before conversion the document is
// checked against the message's descriptor: unknown fields (with a
// suggestion), fields given twice, lists where a value belongs, numbers that
// are not numbers or out of their type's range, enum names that do not exist.
// Thread-compatible.
#ifndef PROXFLOW_CLIENT_CONFIG_DOCUMENT_H_
#define PROXFLOW_CLIENT_CONFIG_DOCUMENT_H_

#include <google/protobuf/message.h>
#include <yaml-cpp/yaml.h>

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace proxflow::client {

class ConfigDocument {
 public:
  // An empty document (every field unset).
  ConfigDocument();

  // `source` names the text in messages ("job.yaml"). INVALID_ARGUMENT
  // "job.yaml:3:7: syntax error: ..." when it does not parse.
  static absl::StatusOr<ConfigDocument> Parse(std::string source,
                                              absl::string_view text);
  // Reads and parses the file at `path` (at most 16 MiB).
  static absl::StatusOr<ConfigDocument> Load(const std::string& path);

  // `path.to.field=value`: sets one field by its path (proto or JSON names),
  // creating the mappings on the way. The value is read as YAML ("8", "true",
  // "[1, 2]", "SOLVER_HEUN"). INVALID_ARGUMENT for a malformed assignment or a
  // path that crosses a value.
  absl::Status Set(absl::string_view assignment);

  // Checks the document against `message`'s type and fills `message` (cleared
  // first) through protobuf's JSON parser. Errors begin with where the field
  // is ("job.yaml:5: ", "--set batch_size=x: ").
  absl::Status ToMessage(google::protobuf::Message* message) const;

  // Where the field at `path` ("critic.network.width") was written, or "" if
  // the document does not set it.
  std::string Locate(absl::string_view path) const;

  // `status` with its message prefixed by where the first field path it
  // mentions after `prefix` (e.g. "training.batch_size must be ...") was
  // written; unchanged when none of it comes from this document.
  absl::Status Annotate(const absl::Status& status,
                        absl::string_view prefix = "training.") const;

 private:
  ConfigDocument(std::string source, YAML::Node root);
  std::string Where(const YAML::Node& node) const;

  std::string source_;
  YAML::Node root_;
  // Field path → "--set path=value" for fields assigned by Set().
  absl::flat_hash_map<std::string, std::string> assigned_;
};

}  // namespace proxflow::client

#endif  // PROXFLOW_CLIENT_CONFIG_DOCUMENT_H_
