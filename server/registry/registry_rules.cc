#include "server/registry/registry_rules.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/registry/checkpoint_ref.h"

namespace proxflow::server {
namespace {

namespace pb = proxflow::v1;

bool IsTagChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

bool Better(double a, double b, bool minimize) {
  return minimize ? a < b : a > b;
}

bool Minimize(const pb::RegistryConfig& policy) {
  return policy.best_goal() != pb::METRIC_GOAL_MAXIMIZE;
}

}  // namespace

std::string DescribeVersion(const pb::Checkpoint& c) {
  return absl::StrCat(c.model(), "/", c.version());
}

absl::Status CheckTag(absl::string_view field, absl::string_view tag) {
  const bool ok = !tag.empty() && tag.size() <= 64 &&
                  std::all_of(tag.begin(), tag.end(), IsTagChar);
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(field, " must be 1..64 characters of [A-Za-z0-9._-], got ",
                   QuoteForError(tag)));
}

absl::StatusOr<std::vector<std::string>> NormalizeTags(
    const google::protobuf::RepeatedPtrField<std::string>& tags,
    absl::string_view field) {
  if (tags.size() > 64) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " must hold at most 64 tags, got ", tags.size()));
  }
  std::vector<std::string> out;
  for (int i = 0; i < tags.size(); ++i) {
    if (absl::Status s = CheckTag(absl::StrCat(field, "[", i, "]"), tags[i]);
        !s.ok()) {
      return s;
    }
    out.push_back(tags[i]);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

absl::Status CheckUserAlias(absl::string_view alias) {
  if (!IsValidAlias(alias)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "alias must be 1..64 characters of [A-Za-z0-9._-], not all digits, "
        "got ",
        QuoteForError(alias)));
  }
  if (alias == kLatestAlias || alias == kBestAlias) {
    return absl::InvalidArgumentError(
        absl::StrCat("alias \"", alias,
                     "\" is maintained by training and cannot be set or "
                     "deleted by hand; choose another name"));
  }
  return absl::OkStatus();
}

absl::Status CheckReady(const pb::Checkpoint& c) {
  if (c.status() == pb::CHECKPOINT_STATUS_READY) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "checkpoint ", DescribeVersion(c), " is ",
      pb::CheckpointStatus_Name(c.status()),
      c.status_reason().empty() ? ""
                                : absl::StrCat(" (", c.status_reason(), ")"),
      ", not READY"));
}

absl::Status CheckDeletable(const pb::Checkpoint& c) {
  if (c.status() == pb::CHECKPOINT_STATUS_PENDING) {
    return absl::FailedPreconditionError(absl::StrCat(
        "checkpoint ", DescribeVersion(c), " is still being written"));
  }
  if (c.pinned()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "checkpoint ", DescribeVersion(c), " is pinned; unpin it first"));
  }
  if (c.aliases_size() > 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("checkpoint ", DescribeVersion(c), " is aliased (",
                     absl::StrJoin(c.aliases(), ", "),
                     "); move or delete the aliases first"));
  }
  return absl::OkStatus();
}

std::string IntegrityFailure(const pb::Checkpoint& c,
                             const absl::Status& cause) {
  return absl::StrCat("integrity check failed: file ", c.files(0).name(),
                      " of ", DescribeVersion(c), " does not match its sha256 ",
                      c.files(0).sha256(), " (",
                      absl::IsNotFound(cause) ? "missing" : "corrupt", ")");
}

bool NewerStep(const pb::Checkpoint& a, const pb::Checkpoint& b) {
  return std::make_pair(a.lineage().step(), a.version()) >
         std::make_pair(b.lineage().step(), b.version());
}

std::optional<double> MetricOf(const pb::Checkpoint& c,
                               absl::string_view metric) {
  const auto it = c.metrics().find(std::string(metric));
  if (it == c.metrics().end()) return std::nullopt;
  return it->second;
}

bool BeatsBest(const pb::Checkpoint& candidate,
               const std::optional<pb::Checkpoint>& current,
               const pb::RegistryConfig& policy) {
  const std::optional<double> mine = MetricOf(candidate, policy.best_metric());
  if (!mine.has_value()) return false;
  if (!current.has_value() ||
      current->status() != pb::CHECKPOINT_STATUS_READY) {
    return true;
  }
  const std::optional<double> theirs = MetricOf(*current, policy.best_metric());
  return !theirs.has_value() || Better(*mine, *theirs, Minimize(policy));
}

std::vector<std::string> RetainedByPolicy(
    const std::vector<pb::Checkpoint>& versions) {
  if (versions.empty()) return {};
  std::vector<const pb::Checkpoint*> by_step;
  for (const pb::Checkpoint& c : versions) by_step.push_back(&c);
  std::sort(by_step.begin(), by_step.end(),
            [](const pb::Checkpoint* a, const pb::Checkpoint* b) {
              return NewerStep(*a, *b);
            });
  const pb::RegistryConfig& policy =
      by_step.front()->lineage().resolved_config().registry();
  std::vector<std::string> keep;
  for (size_t i = 0; i < by_step.size(); ++i) {
    const pb::Checkpoint& c = *by_step[i];
    if (static_cast<int>(i) < policy.keep_latest() || c.pinned() ||
        c.aliases_size() > 0)
      keep.push_back(c.uuid());
  }
  std::vector<const pb::Checkpoint*> ranked;
  for (const pb::Checkpoint* c : by_step)
    if (MetricOf(*c, policy.best_metric()).has_value()) ranked.push_back(c);
  const bool minimize = Minimize(policy);
  std::stable_sort(ranked.begin(), ranked.end(),
                   [&](const pb::Checkpoint* a, const pb::Checkpoint* b) {
                     return Better(*MetricOf(*a, policy.best_metric()),
                                   *MetricOf(*b, policy.best_metric()),
                                   minimize);
                   });
  for (int i = 0; i < policy.keep_best() && i < static_cast<int>(ranked.size());
       ++i)
    keep.push_back(ranked[i]->uuid());
  std::sort(keep.begin(), keep.end());
  keep.erase(std::unique(keep.begin(), keep.end()), keep.end());
  return keep;
}

}  // namespace proxflow::server
