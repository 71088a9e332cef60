// Page sizes and opaque page tokens shared by every List RPC. Thread-safe
// (pure functions).
#ifndef PROXFLOW_SERVER_PAGINATION_H_
#define PROXFLOW_SERVER_PAGINATION_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace proxflow::server {

inline constexpr int kMaxPageSize = 1000;

// `requested` in [1, kMaxPageSize], or `default_size` for 0. INVALID_ARGUMENT
// naming page_size otherwise.
absl::StatusOr<int> ResolvePageSize(int requested, int default_size);

// A token carrying `position` for the List RPC `rpc` (web-safe base64, so
// clients treat it as opaque).
std::string EncodePageToken(absl::string_view rpc, absl::string_view position);

// The position in `token`; "" for an empty token. INVALID_ARGUMENT naming
// page_token when it was not made by EncodePageToken for `rpc`.
absl::StatusOr<std::string> DecodePageToken(absl::string_view rpc,
                                            absl::string_view token);

// The same for positions that are row numbers (> 0): 0 for an empty token.
std::string EncodePageToken(absl::string_view rpc, int64_t position);
absl::StatusOr<int64_t> DecodeRowPageToken(absl::string_view rpc,
                                           absl::string_view token);

}  // namespace proxflow::server

#endif  // PROXFLOW_SERVER_PAGINATION_H_
