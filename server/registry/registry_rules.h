// The registry's pure rules: names, states a change requires, integrity
// messages, and how versions rank for the "best" alias and retention.
// Thread-safe (pure functions).
#ifndef PROXFLOW_SERVER_REGISTRY_REGISTRY_RULES_H_
#define PROXFLOW_SERVER_REGISTRY_REGISTRY_RULES_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/base/error_text.h"
#include "google/protobuf/repeated_field.h"
#include "proxflow/v1/registry.pb.h"

namespace proxflow::server {

// Aliases maintained by the registry itself.
inline constexpr char kLatestAlias[] = "latest";
inline constexpr char kBestAlias[] = "best";

// "model/7".
std::string DescribeVersion(const proxflow::v1::Checkpoint& c);

// Tags: 1..64 characters of [A-Za-z0-9._-]; INVALID_ARGUMENT naming `field`.
absl::Status CheckTag(absl::string_view field, absl::string_view tag);
// At most 64 valid tags, sorted and unique.
absl::StatusOr<std::vector<std::string>> NormalizeTags(
    const google::protobuf::RepeatedPtrField<std::string>& tags,
    absl::string_view field);

// A valid alias users may set or delete (not "latest" or "best").
absl::Status CheckUserAlias(absl::string_view alias);

// FAILED_PRECONDITION naming the version and its status unless READY.
absl::Status CheckReady(const proxflow::v1::Checkpoint& c);
// FAILED_PRECONDITION when the version is PENDING, pinned or aliased.
absl::Status CheckDeletable(const proxflow::v1::Checkpoint& c);

// The status reason recorded when a version's file fails verification.
std::string IntegrityFailure(const proxflow::v1::Checkpoint& c,
                             const absl::Status& cause);

// Orders versions newest first: by training step, then version number.
bool NewerStep(const proxflow::v1::Checkpoint& a,
               const proxflow::v1::Checkpoint& b);

// The value of `metric` saved with the version, if any.
std::optional<double> MetricOf(const proxflow::v1::Checkpoint& c,
                               absl::string_view metric);
// Whether `candidate` should become "best" over `current` under the policy of
// the job that wrote the candidate: it has the metric and beats a READY
// current that has it too (or there is no such current).
bool BeatsBest(const proxflow::v1::Checkpoint& candidate,
               const std::optional<proxflow::v1::Checkpoint>& current,
               const proxflow::v1::RegistryConfig& policy);

// Of one job's READY versions, the uuids its retention policy keeps: the
// keep_latest newest by step, the keep_best best by best_metric, and every
// pinned or aliased one. The policy is the newest version's.
std::vector<std::string> RetainedByPolicy(
    const std::vector<proxflow::v1::Checkpoint>& job_versions);

}  // namespace proxflow::server

#endif  // PROXFLOW_SERVER_REGISTRY_REGISTRY_RULES_H_
