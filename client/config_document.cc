#include "client/config_document.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "client/suggest.h"
#include "core/base/file_util.h"
#include "core/base/status_macros.h"

namespace proxflow::client {
namespace {

namespace gpb = google::protobuf;

constexpr size_t kMaxConfigBytes = size_t{16} << 20;

// "batchSize" and "batch_size" both name the proto field batch_size.
std::string SnakeCase(absl::string_view key) {
  std::string out;
  for (char c : key) {
    if (absl::ascii_isupper(c)) {
      out += '_';
      out += absl::ascii_tolower(c);
    } else {
      out += c;
    }
  }
  return out;
}

std::string JsonQuote(absl::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20) {
          absl::StrAppend(&out, "\\u00", c < 0x10 ? "0" : "",
                          absl::Hex(c));  // control characters
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

// " (did you mean \"x\"?)" for a close candidate.
std::string Suggest(absl::string_view given,
                    const std::vector<std::string>& candidates) {
  const std::string best = ClosestName(given, candidates);
  return best.empty() ? "" : absl::StrCat(" (did you mean \"", best, "\"?)");
}

const char* KindOf(const YAML::Node& node) {
  if (node.IsMap()) return "a mapping";
  if (node.IsSequence()) return "a list";
  return "a value";
}

// Walks a parsed document against a descriptor and writes the JSON that
// protobuf's parser reads. Every error names where the field is.
class Checker {
 public:
  using Where =
      std::function<std::string(const YAML::Node&, const std::string&)>;
  explicit Checker(Where where) : where_(std::move(where)) {}

  absl::Status Message(const YAML::Node& node, const gpb::Descriptor* type,
                       const std::string& path, std::string* json) const {
    if (node.IsNull()) {
      *json += "{}";
      return absl::OkStatus();
    }
    if (!node.IsMap()) {
      return Error(node, path,
                   absl::StrCat(path.empty() ? "the config" : path,
                                " must be a mapping of ", type->full_name(),
                                " fields, got ", KindOf(node)));
    }
    absl::flat_hash_map<const gpb::FieldDescriptor*, int> seen;  // → line
    *json += "{";
    bool first = true;
    for (auto it = node.begin(); it != node.end(); ++it) {
      // Copies: yaml-cpp's iterator yields a temporary pair, so references to
      // it->first dangle at the end of the statement (ASan: stack-use-after-
      // scope, found by scripts/sanitize).
      const YAML::Node key = it->first;
      const YAML::Node value = it->second;
      if (!key.IsScalar()) {
        return Error(key, path, "a field name must be a plain word");
      }
      const std::string name = key.Scalar();
      const gpb::FieldDescriptor* field = type->FindFieldByName(name);
      if (field == nullptr) field = type->FindFieldByName(SnakeCase(name));
      const std::string field_path =
          path.empty() ? (field ? field->name() : name)
                       : absl::StrCat(path, ".", field ? field->name() : name);
      if (field == nullptr) {
        std::vector<std::string> names;
        for (int i = 0; i < type->field_count(); ++i)
          names.push_back(type->field(i)->name());
        return Error(key, field_path,
                     absl::StrCat("unknown field \"", name, "\" in ",
                                  path.empty() ? type->full_name() : path,
                                  Suggest(name, names),
                                  "; fields: ", absl::StrJoin(names, ", ")));
      }
      if (auto [at, inserted] = seen.emplace(field, key.Mark().line + 1);
          !inserted) {
        return Error(
            key, field_path,
            absl::StrCat("field ", field_path,
                         " is given twice (first on line ", at->second, ")"));
      }
      if (value.IsNull()) continue;  // `field:` with nothing: unset
      std::string field_json;
      PROXFLOW_RETURN_IF_ERROR(Field(value, field, field_path, &field_json));
      absl::StrAppend(json, first ? "" : ",", JsonQuote(field->name()), ":",
                      field_json);
      first = false;
    }
    *json += "}";
    return absl::OkStatus();
  }

 private:
  absl::Status Error(const YAML::Node& node, const std::string& path,
                     absl::string_view message) const {
    return absl::InvalidArgumentError(
        absl::StrCat(where_(node, path), ": ", message));
  }

  absl::Status Field(const YAML::Node& value, const gpb::FieldDescriptor* field,
                     const std::string& path, std::string* json) const {
    if (field->is_map()) {
      return Error(value, path, "map fields are not supported in configs");
    }
    if (field->is_repeated()) {
      if (!value.IsSequence()) {
        return Error(
            value, path,
            absl::StrCat(path, " must be a list, got ", KindOf(value)));
      }
      *json += "[";
      for (size_t i = 0; i < value.size(); ++i) {
        const std::string item_path = absl::StrCat(path, "[", i, "]");
        if (i > 0) *json += ",";
        if (field->cpp_type() == gpb::FieldDescriptor::CPPTYPE_MESSAGE) {
          PROXFLOW_RETURN_IF_ERROR(
              Message(value[i], field->message_type(), item_path, json));
        } else {
          PROXFLOW_RETURN_IF_ERROR(Scalar(value[i], field, item_path, json));
        }
      }
      *json += "]";
      return absl::OkStatus();
    }
    if (field->cpp_type() == gpb::FieldDescriptor::CPPTYPE_MESSAGE)
      return Message(value, field->message_type(), path, json);
    return Scalar(value, field, path, json);
  }

  absl::Status Scalar(const YAML::Node& value,
                      const gpb::FieldDescriptor* field,
                      const std::string& path, std::string* json) const {
    using F = gpb::FieldDescriptor;
    if (!value.IsScalar()) {
      return Error(value, path,
                   absl::StrCat(path, " must be a single ", field->type_name(),
                                ", got ", KindOf(value)));
    }
    const std::string text = value.Scalar();
    const std::string got = absl::StrCat(", got \"", text, "\"");
    switch (field->cpp_type()) {
      case F::CPPTYPE_STRING:
        *json += JsonQuote(text);
        return absl::OkStatus();
      case F::CPPTYPE_BOOL:
        if (text == "true" || text == "false") {
          *json += text;
          return absl::OkStatus();
        }
        return Error(value, path,
                     absl::StrCat(path, " must be true or false", got));
      case F::CPPTYPE_ENUM: {
        const gpb::EnumDescriptor* type = field->enum_type();
        if (type->FindValueByName(text) != nullptr) {
          *json += JsonQuote(text);
          return absl::OkStatus();
        }
        std::vector<std::string> names;
        for (int i = 0; i < type->value_count(); ++i) {
          if (type->value(i)->number() != 0)
            names.push_back(type->value(i)->name());
        }
        return Error(
            value, path,
            absl::StrCat(path, " must be one of ", absl::StrJoin(names, ", "),
                         got, Suggest(text, names)));
      }
      case F::CPPTYPE_INT32:
      case F::CPPTYPE_INT64: {
        const bool wide = field->cpp_type() == F::CPPTYPE_INT64;
        const int64_t lo = wide ? std::numeric_limits<int64_t>::min()
                                : int64_t{std::numeric_limits<int32_t>::min()};
        const int64_t hi = wide ? std::numeric_limits<int64_t>::max()
                                : int64_t{std::numeric_limits<int32_t>::max()};
        int64_t v = 0;
        if (!absl::SimpleAtoi(text, &v) || v < lo || v > hi) {
          return Error(value, path,
                       absl::StrCat(path, " must be an integer (",
                                    wide ? "int64" : "int32", ")", got));
        }
        // 64-bit integers are strings in the JSON mapping (exact above 2^53).
        *json += wide ? JsonQuote(absl::StrCat(v)) : absl::StrCat(v);
        return absl::OkStatus();
      }
      case F::CPPTYPE_UINT32:
      case F::CPPTYPE_UINT64: {
        const bool wide = field->cpp_type() == F::CPPTYPE_UINT64;
        const uint64_t hi = wide ? std::numeric_limits<uint64_t>::max()
                                 : std::numeric_limits<uint32_t>::max();
        uint64_t v = 0;
        if (absl::StartsWith(absl::StripAsciiWhitespace(text), "-") ||
            !absl::SimpleAtoi(text, &v) || v > hi) {
          return Error(value, path,
                       absl::StrCat(path, " must be a non-negative integer (",
                                    wide ? "uint64" : "uint32", ")", got));
        }
        *json += wide ? JsonQuote(absl::StrCat(v)) : absl::StrCat(v);
        return absl::OkStatus();
      }
      case F::CPPTYPE_FLOAT:
      case F::CPPTYPE_DOUBLE: {
        double v = 0;
        if (!absl::SimpleAtod(text, &v)) {
          return Error(value, path,
                       absl::StrCat(path, " must be a number", got));
        }
        if (std::isnan(v)) {
          *json += "\"NaN\"";
        } else if (std::isinf(v)) {
          *json += v > 0 ? "\"Infinity\"" : "\"-Infinity\"";
        } else {
          *json += absl::StrFormat("%.17g", v);  // exact, and valid JSON
        }
        return absl::OkStatus();
      }
      case F::CPPTYPE_MESSAGE:
        break;
    }
    return Error(value, path, "unsupported field type");
  }

  Where where_;
};

// Splits "a.b.c" into segments in snake case; empty on a malformed path.
std::vector<std::string> PathSegments(absl::string_view path) {
  std::vector<std::string> out;
  for (absl::string_view s : absl::StrSplit(path, '.')) {
    if (s.empty()) return {};
    out.push_back(SnakeCase(s));
  }
  return out;
}

// The child of mapping `map` whose key names `segment`, or an invalid node.
std::optional<YAML::Node> Child(const YAML::Node& map,
                                const std::string& segment) {
  if (!map.IsMap()) return std::nullopt;
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (it->first.IsScalar() && SnakeCase(it->first.Scalar()) == segment)
      return it->first;  // the key: its mark is the field's line
  }
  return std::nullopt;
}

}  // namespace

ConfigDocument::ConfigDocument() : root_(YAML::NodeType::Map) {}

ConfigDocument::ConfigDocument(std::string source, YAML::Node root)
    : source_(std::move(source)), root_(std::move(root)) {}

absl::StatusOr<ConfigDocument> ConfigDocument::Parse(std::string source,
                                                     absl::string_view text) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(source, ":", e.mark.line + 1,
                                                   ":", e.mark.column + 1,
                                                   ": syntax error: ", e.msg));
  }
  if (!root.IsDefined() || root.IsNull())
    root = YAML::Node(YAML::NodeType::Map);
  return ConfigDocument(std::move(source), std::move(root));
}

absl::StatusOr<ConfigDocument> ConfigDocument::Load(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path, kMaxConfigBytes);
  if (!text.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("config file \"", path,
                     "\" cannot be read: ", text.status().message()));
  }
  return Parse(path, *text);
}

absl::Status ConfigDocument::Set(absl::string_view assignment) {
  const size_t eq = assignment.find('=');
  const std::vector<std::string> segments =
      eq == absl::string_view::npos ? std::vector<std::string>()
                                    : PathSegments(assignment.substr(0, eq));
  if (segments.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--set \"", assignment, "\" must look like path.to.field=value"));
  }
  const std::string value_text(assignment.substr(eq + 1));
  YAML::Node value;
  try {
    value = YAML::Load(value_text);
  } catch (const YAML::Exception&) {
    value = YAML::Node(value_text);  // not YAML: take it as a string
  }
  if (!value.IsDefined()) value = YAML::Node(value_text);
  if (!root_.IsMap()) root_ = YAML::Node(YAML::NodeType::Map);
  YAML::Node node = root_;
  std::string path;
  for (size_t i = 0; i < segments.size(); ++i) {
    path = i == 0 ? segments[i] : absl::StrCat(path, ".", segments[i]);
    // Reuse the key as written (JSON or proto name), else add a snake one.
    std::string key = segments[i];
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (it->first.IsScalar() && SnakeCase(it->first.Scalar()) == segments[i])
        key = it->first.Scalar();
    }
    if (i + 1 == segments.size()) {
      node[key] = value;
      break;
    }
    YAML::Node next = node[key];
    if (!next.IsDefined() || next.IsNull()) {
      node[key] = YAML::Node(YAML::NodeType::Map);
      next = node[key];
    } else if (!next.IsMap()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--set ", assignment, ": ", path,
                       " is a value, not a mapping of fields"));
    }
    node.reset(next);
  }
  assigned_[path] = absl::StrCat("--set ", assignment);
  return absl::OkStatus();
}

std::string ConfigDocument::Where(const YAML::Node& node) const {
  return absl::StrCat(source_, ":", node.Mark().line + 1);
}

absl::Status ConfigDocument::ToMessage(gpb::Message* message) const {
  message->Clear();
  // Fields set by --set carry no line of the file; name the assignment.
  Checker checker([this](const YAML::Node& node, const std::string& path) {
    std::string p = path;
    while (!p.empty()) {
      if (auto it = assigned_.find(p); it != assigned_.end()) return it->second;
      const size_t dot = p.find_last_of('.');
      p.resize(dot == std::string::npos ? 0 : dot);
    }
    return Where(node);
  });
  std::string json;
  PROXFLOW_RETURN_IF_ERROR(
      checker.Message(root_, message->GetDescriptor(), "", &json));
  gpb::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const auto status = gpb::util::JsonStringToMessage(json, message, options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source_, ": ", std::string(status.message())));
  }
  return absl::OkStatus();
}

std::string ConfigDocument::Locate(absl::string_view path) const {
  const std::vector<std::string> segments = PathSegments(path);
  std::string prefix;
  YAML::Node node = root_;
  std::string found;
  for (size_t i = 0; i < segments.size(); ++i) {
    prefix = i == 0 ? segments[i] : absl::StrCat(prefix, ".", segments[i]);
    if (auto it = assigned_.find(prefix); it != assigned_.end())
      return it->second;
    std::optional<YAML::Node> key = Child(node, segments[i]);
    if (!key.has_value()) return "";
    found = Where(*key);
    node.reset(node[key->Scalar()]);
  }
  return found;
}

absl::Status ConfigDocument::Annotate(const absl::Status& status,
                                      absl::string_view prefix) const {
  const absl::string_view message = status.message();
  const size_t at = message.find(prefix);
  if (status.ok() || at == absl::string_view::npos) return status;
  size_t end = at + prefix.size();
  while (end < message.size() && (absl::ascii_isalnum(message[end]) ||
                                  message[end] == '_' || message[end] == '.')) {
    ++end;
  }
  std::string path(
      message.substr(at + prefix.size(), end - at - prefix.size()));
  while (!path.empty() && path.back() == '.') path.pop_back();
  const std::string where = Locate(path);
  if (where.empty()) return status;
  return absl::Status(status.code(), absl::StrCat(where, ": ", message));
}

}  // namespace proxflow::client
