// Parsing protos stored in database rows. Thread-safe (pure function).
#ifndef PROXFLOW_SERVER_STORAGE_STORED_PROTO_H_
#define PROXFLOW_SERVER_STORAGE_STORED_PROTO_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace proxflow::server {

// A row that does not parse is corruption (DATA_LOSS naming `what`), not a
// request error.
template <typename Message>
absl::StatusOr<Message> ParseStored(const std::string& bytes,
                                    absl::string_view what) {
  Message m;
  if (!m.ParseFromString(bytes)) {
    return absl::DataLossError(
        absl::StrCat("database: stored ", what, " does not parse"));
  }
  return m;
}

}  // namespace proxflow::server

#endif  // PROXFLOW_SERVER_STORAGE_STORED_PROTO_H_
