#include "client/sampling_client.h"

#include <map>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "client/unary.h"
#include "core/base/sha256.h"

namespace proxflow::client {

namespace pb = proxflow::v1;

namespace {

using ItemKey = std::tuple<int, int, int>;  // kind, index, step

ItemKey KeyOf(const pb::SampleItem& item) {
  return {item.kind(), item.index(), item.step()};
}

std::string Describe(const pb::SampleItem& item) {
  return absl::StrCat(pb::SampleItemKind_Name(item.kind()), " ", item.index(),
                      item.kind() == pb::SAMPLE_ITEM_KIND_TRAJECTORY_FRAME
                          ? absl::StrCat(" at step ", item.step())
                          : "");
}

// One attempt: reads the stream, handing out whole items. `started` tells the
// caller whether any event arrived (then the call must not be repeated).
absl::StatusOr<pb::SampleSummary> SampleOnce(const Connection& connection,
                                             pb::SamplingService::Stub& stub,
                                             const pb::SampleRequest& request,
                                             const SampleHandlers& handlers,
                                             bool& started) {
  grpc::ClientContext context;
  connection.PrepareStream(&context);
  auto reader = stub.Sample(&context, request);
  std::map<ItemKey, std::string> partial;
  pb::SampleSummary summary;
  pb::SampleEvent event;
  absl::Status handler_status;
  while (handler_status.ok() && reader->Read(&event)) {
    started = true;
    switch (event.event_case()) {
      case pb::SampleEvent::kAccepted:
        if (handlers.on_accepted) handlers.on_accepted(event.accepted());
        break;
      case pb::SampleEvent::kProgress:
        if (handlers.on_progress) handlers.on_progress(event.progress());
        break;
      case pb::SampleEvent::kImageChunk: {
        const pb::ImageChunk& chunk = event.image_chunk();
        std::string& bytes = partial[KeyOf(chunk.item())];
        if (chunk.offset() != static_cast<int64_t>(bytes.size())) {
          handler_status = absl::DataLossError(
              absl::StrCat(Describe(chunk.item()), ": chunk at offset ",
                           chunk.offset(), ", expected ", bytes.size()));
          break;
        }
        bytes += chunk.data();
        break;
      }
      case pb::SampleEvent::kImageDone: {
        SampleItemData data;
        data.done = event.image_done();
        auto it = partial.find(KeyOf(data.done.item()));
        if (it != partial.end()) {
          data.bytes = std::move(it->second);
          partial.erase(it);
        }
        if (static_cast<int64_t>(data.bytes.size()) != data.done.size_bytes() ||
            Sha256Hex(data.bytes) != data.done.sha256()) {
          handler_status = absl::DataLossError(absl::StrCat(
              Describe(data.done.item()), ": received ", data.bytes.size(),
              " bytes that do not match its size ", data.done.size_bytes(),
              " and sha256"));
          break;
        }
        handler_status = handlers.on_item(std::move(data));
        break;
      }
      case pb::SampleEvent::kSummary:
        summary = event.summary();
        break;
      case pb::SampleEvent::EVENT_NOT_SET:
        break;
    }
  }
  if (!handler_status.ok()) {
    context.TryCancel();
    reader->Finish().ok();
    return handler_status;
  }
  absl::Status status = rpc::FromGrpcStatus(reader->Finish());
  if (!status.ok()) return status;
  return summary;
}

}  // namespace

SamplingClient::SamplingClient(const Connection& connection)
    : connection_(connection),
      stub_(pb::SamplingService::NewStub(connection.channel())) {}

absl::StatusOr<pb::SampleSummary> SamplingClient::Sample(
    const pb::SampleRequest& request, const SampleHandlers& handlers) const {
  int failures = 0;
  while (true) {
    bool started = false;
    absl::StatusOr<pb::SampleSummary> summary =
        SampleOnce(connection_, *stub_, request, handlers, started);
    if (summary.ok() || started ||
        !connection_.RetryAfter(summary.status(), failures)) {
      return summary;
    }
  }
}

absl::StatusOr<pb::ListLoadedModelsResponse> SamplingClient::ListLoaded()
    const {
  pb::ListLoadedModelsRequest request;
  return CallUnary<pb::ListLoadedModelsResponse>(
      connection_,
      [&](auto* c, auto* r) { return stub_->ListLoadedModels(c, request, r); });
}

}  // namespace proxflow::client
