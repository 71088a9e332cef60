// UploadReactor: the one client-streaming upload protocol of the server
// (UploadDataset, UploadCheckpoint): a header first, then chunks, written
// through to a session as they come with one read in flight, so memory stays
// bounded whatever the file size.
//
// `Request` is a message with `oneof part { Header header; bytes chunk; }`.
// `Session` has `absl::Status Append(absl::string_view)` and
// `absl::StatusOr<Response> Finish()`; destroying it unfinished discards the
// upload. Owned by gRPC: deletes itself in OnDone().
#ifndef PROXFLOW_SERVER_UPLOAD_REACTOR_H_
#define PROXFLOW_SERVER_UPLOAD_REACTOR_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "core/base/status_macros.h"
#include "proto/rpc/status_conversion.h"

namespace proxflow::server {

// Chunks of uploads and downloads: at most 1 MiB, far below gRPC's 4 MiB
// message limit.
inline constexpr int64_t kMaxChunkBytes = int64_t{1} << 20;

template <typename Request, typename Response, typename Session>
class UploadReactor : public grpc::ServerReadReactor<Request> {
 public:
  using Header = std::decay_t<decltype(std::declval<Request>().header())>;
  using Begin =
      std::function<absl::StatusOr<std::unique_ptr<Session>>(const Header&)>;

  UploadReactor(Begin begin, Response* response)
      : begin_(std::move(begin)), response_(response) {
    this->StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    absl::Status status = ok ? Consume() : Complete();
    if (!ok || !status.ok()) {
      // Discard a failed upload before the client hears of it.
      session_.reset();
      this->Finish(rpc::ToGrpcStatus(status));
      return;
    }
    this->StartRead(&request_);
  }

  void OnDone() override { delete this; }

 private:
  absl::Status Consume() {
    if (session_ == nullptr) {
      if (!request_.has_header()) {
        return absl::InvalidArgumentError(
            "header: the first message of an upload must be the header");
      }
      PROXFLOW_ASSIGN_OR_RETURN(session_, begin_(request_.header()));
      return absl::OkStatus();
    }
    if (request_.has_header()) {
      return absl::InvalidArgumentError(
          "header: only the first message of an upload may be a header");
    }
    const auto size = static_cast<int64_t>(request_.chunk().size());
    if (size < 1 || size > kMaxChunkBytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          "chunk must be 1..", kMaxChunkBytes, " bytes, got ", size, " bytes"));
    }
    return session_->Append(request_.chunk());
  }

  absl::Status Complete() {
    if (session_ == nullptr) {
      return absl::InvalidArgumentError(
          "header: the upload ended before its header");
    }
    PROXFLOW_ASSIGN_OR_RETURN(*response_, session_->Finish());
    session_.reset();
    return absl::OkStatus();
  }

  const Begin begin_;
  Response* const response_;
  Request request_;
  std::unique_ptr<Session> session_;
};

}  // namespace proxflow::server

#endif  // PROXFLOW_SERVER_UPLOAD_REACTOR_H_
