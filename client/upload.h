// The client half of the one upload protocol (UploadDataset, UploadCheckpoint):
// a header, then chunks of at most 1 MiB read from a ChunkSource, so a file of
// any size streams with bounded memory. Uploads create state, so they are
// never retried here. Thread-compatible (one source per upload).
#ifndef PROXFLOW_CLIENT_UPLOAD_H_
#define PROXFLOW_CLIENT_UPLOAD_H_

#include <grpcpp/client_context.h>

#include <cstdio>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/connection.h"
#include "proto/rpc/status_conversion.h"

namespace proxflow::client {

inline constexpr size_t kUploadChunkBytes = size_t{1} << 20;

// Bytes to upload, a chunk at a time, with their size and sha256 known up front
// (the header carries both).
class ChunkSource {
 public:
  virtual ~ChunkSource() = default;
  virtual int64_t size() const = 0;
  virtual const std::string& sha256() const = 0;
  // Up to `max` next bytes; empty at the end.
  virtual absl::StatusOr<std::string> Next(size_t max) = 0;
};

// A file on disk (hashed once when opened). INVALID_ARGUMENT naming the path
// when it cannot be read.
absl::StatusOr<std::unique_ptr<ChunkSource>> FileChunks(
    const std::string& path);
// Bytes in memory (the source keeps a view: `bytes` must outlive it).
std::unique_ptr<ChunkSource> MemoryChunks(absl::string_view bytes);

// `open(context, response)` starts the call and returns its writer, e.g.
//   [&](auto* c, auto* r) { return stub->UploadCheckpoint(c, r); }
// `request` arrives with its header set.
template <typename Request, typename Response, typename Open>
absl::StatusOr<Response> StreamUpload(const Connection& connection, Open&& open,
                                      Request request, ChunkSource& source) {
  grpc::ClientContext context;
  connection.PrepareStream(&context);
  Response response;
  auto writer = open(&context, &response);
  bool open_stream = writer->Write(request);
  absl::Status read_status;
  while (open_stream) {
    absl::StatusOr<std::string> chunk = source.Next(kUploadChunkBytes);
    if (!chunk.ok()) {
      read_status = chunk.status();
      context.TryCancel();
      break;
    }
    if (chunk->empty()) break;
    request.set_chunk(*std::move(chunk));
    open_stream = writer->Write(request);
  }
  writer->WritesDone();
  absl::Status status = rpc::FromGrpcStatus(writer->Finish());
  if (!read_status.ok()) return read_status;
  if (!status.ok()) return status;
  return response;
}

}  // namespace proxflow::client

#endif  // PROXFLOW_CLIENT_UPLOAD_H_
