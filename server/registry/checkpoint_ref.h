// Checkpoint references: "model/7", "model@alias" or a uuid, and the uuids the
// registry assigns. Thread-safe (pure functions, except NewUuid which draws
// from a thread-safe generator).
#ifndef PROXFLOW_SERVER_REGISTRY_CHECKPOINT_REF_H_
#define PROXFLOW_SERVER_REGISTRY_CHECKPOINT_REF_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace proxflow::server {

struct CheckpointRef {
  enum class Kind { kVersion, kAlias, kUuid };
  Kind kind = Kind::kUuid;
  std::string model;    // kVersion, kAlias
  int64_t version = 0;  // kVersion
  std::string alias;    // kAlias
  std::string uuid;     // kUuid
};

// Aliases: 1..64 characters of [A-Za-z0-9._-], not all digits (so "model@7"
// never reads like a version).
bool IsValidAlias(absl::string_view alias);

// A random (version 4) uuid in its canonical lowercase form.
std::string NewUuid();
bool IsUuid(absl::string_view text);

// Parses `ref`; INVALID_ARGUMENT naming `field` and the value when it is none
// of the three forms.
absl::StatusOr<CheckpointRef> ParseCheckpointRef(absl::string_view ref,
                                                 absl::string_view field);

}  // namespace proxflow::server

#endif  // PROXFLOW_SERVER_REGISTRY_CHECKPOINT_REF_H_
