// CallUnary: one unary RPC with the connection's deadline and token, its
// grpc::Status turned into absl::Status, and idempotent calls retried with
// backoff while IsRetryable. Thread-safe as the stub and connection are.
#ifndef PROXFLOW_CLIENT_UNARY_H_
#define PROXFLOW_CLIENT_UNARY_H_

#include <grpcpp/client_context.h>

#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "client/connection.h"
#include "proto/rpc/status_conversion.h"

namespace proxflow::client {

enum class Idempotent { kYes, kNo };

// `invoke(grpc::ClientContext*, Response*)` makes the call, e.g.
//   [&](auto* c, auto* r) { return stub->GetJob(c, request, r); }
template <typename Response, typename Invoke>
absl::StatusOr<Response> CallUnary(const Connection& connection,
                                   Invoke&& invoke,
                                   Idempotent idempotent = Idempotent::kYes) {
  int failures = 0;
  while (true) {
    grpc::ClientContext context;
    connection.PrepareUnary(&context);
    Response response;
    absl::Status status = rpc::FromGrpcStatus(invoke(&context, &response));
    if (status.ok()) return response;
    if (idempotent == Idempotent::kNo ||
        !connection.RetryAfter(status, failures)) {
      return status;
    }
  }
}

// Every item of a paginated List call: `request` needs page_size/page_token,
// `invoke(context, request, response)` makes one call and `items(response)`
// returns the page's repeated field, e.g.
//   CollectPages<pb::Job, pb::ListJobsResponse>(connection, request,
//       [&](auto* c, const auto& q, auto* r) { return stub->ListJobs(c, q, r);
//       },
//       [](auto* r) { return r->mutable_jobs(); });
template <typename Item, typename Response, typename Request, typename Invoke,
          typename Items>
absl::StatusOr<std::vector<Item>> CollectPages(const Connection& connection,
                                               Request request, Invoke&& invoke,
                                               Items&& items) {
  std::vector<Item> all;
  request.set_page_size(1000);
  do {
    absl::StatusOr<Response> page = CallUnary<Response>(
        connection, [&](auto* c, auto* r) { return invoke(c, request, r); });
    if (!page.ok()) return page.status();
    for (Item& item : *items(&*page)) all.push_back(std::move(item));
    request.set_page_token(page->next_page_token());
  } while (!request.page_token().empty());
  return all;
}

}  // namespace proxflow::client

#endif  // PROXFLOW_CLIENT_UNARY_H_
