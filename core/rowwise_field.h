// The CPU sampling path's velocity field: v(x, t) of a Flow's network computed
// by core/kernels/rowwise_net.h, whose values for a row depend on that row
// alone (fixed summation order, no BLAS), so that a sample's bytes never
// depend on the batch, the thread count or the OpenBLAS kernels. Internal to
// core (SamplingRun).
#ifndef PROXFLOW_CORE_ROWWISE_FIELD_H_
#define PROXFLOW_CORE_ROWWISE_FIELD_H_

#include <optional>

#include "core/flow.h"
#include "core/integrators.h"

namespace proxflow::core {

// The field of `flow` on the rowwise kernels: x (N, d) float32 on the CPU in,
// (N, d) float32 out, rows spread over LibTorch's intra-op threads. A snapshot
// of the weights at this call (reused from the flow's cache while the
// parameters are unchanged): later updates of the network are not seen by the
// returned field. Not thread-safe (it updates the flow's cache).
// nullopt when the flow cannot use them: a flow built from a function rather
// than a FlowNet, a network on another device or in bf16, or one whose layout
// the kernels do not know.
std::optional<VelocityFn> RowwiseVelocityField(const Flow& flow);

}  // namespace proxflow::core

#endif  // PROXFLOW_CORE_ROWWISE_FIELD_H_
