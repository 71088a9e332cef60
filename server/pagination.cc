#include "server/pagination.h"

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "core/base/error_text.h"
#include "core/base/status_macros.h"

namespace proxflow::server {

absl::StatusOr<int> ResolvePageSize(int requested, int default_size) {
  if (requested < 0 || requested > kMaxPageSize) {
    return absl::InvalidArgumentError(absl::StrCat(
        "page_size must be in [0, ", kMaxPageSize, "], got ", requested));
  }
  return requested == 0 ? default_size : requested;
}

std::string EncodePageToken(absl::string_view rpc, absl::string_view position) {
  return absl::WebSafeBase64Escape(absl::StrCat(rpc, ":", position));
}

absl::StatusOr<std::string> DecodePageToken(absl::string_view rpc,
                                            absl::string_view token) {
  if (token.empty()) return std::string();
  std::string raw;
  absl::string_view rest;
  if (absl::WebSafeBase64Unescape(token, &raw)) rest = raw;
  if (!absl::ConsumePrefix(&rest, rpc) || !absl::ConsumePrefix(&rest, ":")) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_token is not a token from ", rpc, ", got ",
                     QuoteForError(token)));
  }
  return std::string(rest);
}

std::string EncodePageToken(absl::string_view rpc, int64_t position) {
  return EncodePageToken(rpc, absl::StrCat(position));
}

absl::StatusOr<int64_t> DecodeRowPageToken(absl::string_view rpc,
                                           absl::string_view token) {
  PROXFLOW_ASSIGN_OR_RETURN(const std::string position,
                            DecodePageToken(rpc, token));
  int64_t row = 0;
  if (!position.empty() && (!absl::SimpleAtoi(position, &row) || row < 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_token is not a token from ", rpc, ", got ",
                     QuoteForError(token)));
  }
  return row;
}

}  // namespace proxflow::server
