#include "server/registry/checkpoint_ref.h"

#include <cctype>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "core/base/error_text.h"
#include "core/base/resource_name.h"

namespace proxflow::server {
namespace {

bool AllDigits(absl::string_view text) {
  for (char c : text)
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

}  // namespace

bool IsValidAlias(absl::string_view alias) {
  return alias.size() <= 64 && IsValidResourceName(alias) && !AllDigits(alias);
}

std::string NewUuid() {
  static absl::Mutex mu(absl::kConstInit);
  static absl::BitGen* gen = new absl::BitGen();
  uint64_t hi, lo;
  {
    absl::MutexLock lock(&mu);
    hi = absl::Uniform<uint64_t>(*gen);
    lo = absl::Uniform<uint64_t>(*gen);
  }
  hi = (hi & ~uint64_t{0xF000}) | uint64_t{0x4000};            // version 4
  lo = (lo & ~(uint64_t{0xC} << 60)) | (uint64_t{0x8} << 60);  // variant 10
  return absl::StrFormat("%08x-%04x-%04x-%04x-%012x", hi >> 32,
                         (hi >> 16) & 0xFFFF, hi & 0xFFFF, lo >> 48,
                         lo & 0xFFFFFFFFFFFFull);
}

bool IsUuid(absl::string_view text) {
  if (text.size() != 36) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

absl::StatusOr<CheckpointRef> ParseCheckpointRef(absl::string_view ref,
                                                 absl::string_view field) {
  const auto invalid = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " ", why, ", got ", QuoteForError(ref)));
  };
  CheckpointRef out;
  if (IsUuid(ref)) {
    out.kind = CheckpointRef::Kind::kUuid;
    out.uuid = std::string(ref);
    return out;
  }
  const size_t at = ref.rfind('@');
  const size_t slash = ref.rfind('/');
  if (at != absl::string_view::npos && slash == absl::string_view::npos) {
    out.kind = CheckpointRef::Kind::kAlias;
    out.model = std::string(ref.substr(0, at));
    out.alias = std::string(ref.substr(at + 1));
    if (!IsValidResourceName(out.model) || !IsValidAlias(out.alias)) {
      return invalid("must be MODEL@ALIAS with a valid model name and alias");
    }
    return out;
  }
  if (slash != absl::string_view::npos && at == absl::string_view::npos) {
    out.kind = CheckpointRef::Kind::kVersion;
    out.model = std::string(ref.substr(0, slash));
    const absl::string_view number = ref.substr(slash + 1);
    if (!IsValidResourceName(out.model) || number.empty() ||
        !AllDigits(number) || !absl::SimpleAtoi(number, &out.version) ||
        out.version < 1) {
      return invalid("must be MODEL/VERSION with a version >= 1");
    }
    return out;
  }
  return invalid("must be MODEL/VERSION, MODEL@ALIAS or a uuid");
}

}  // namespace proxflow::server
