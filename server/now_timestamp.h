// The current time as a google.protobuf.Timestamp, to the microsecond.
// protobuf 3.21's TimeUtil::GetCurrentTime() reads time(nullptr): whole
// seconds, which made job start/end times, queue waits and the server
// benchmark's in-server rate (40 iterations: "1.000 s" or "0 s") coarse.
// Thread-safe.
#ifndef PROXFLOW_SERVER_NOW_TIMESTAMP_H_
#define PROXFLOW_SERVER_NOW_TIMESTAMP_H_

#include <google/protobuf/timestamp.pb.h>
#include <google/protobuf/util/time_util.h>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace proxflow::server {

inline google::protobuf::Timestamp NowTimestamp() {
  return google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(
      absl::ToUnixMicros(absl::Now()));
}

}  // namespace proxflow::server

#endif  // PROXFLOW_SERVER_NOW_TIMESTAMP_H_
