// Sizes the networks of a resolved config will have, computed without
// building them (torch-free): for limits at submission (server/job_limits.h)
// and for checking that a checkpoint carries the bytes its config claims
// before any network is allocated. Pure functions, thread-safe.
#ifndef PROXFLOW_CORE_NETWORK_SIZE_H_
#define PROXFLOW_CORE_NETWORK_SIZE_H_

#include <cstdint>

#include "core/options.h"

namespace proxflow::core {

// Width of a sample: 784 for MNIST, dataset.dimension otherwise.
int DataDimension(const TrainOptions& options);

// Parameters of an MLP (or conv trunk + MLP head) with `inputs` inputs and
// `outputs` outputs, as core/networks.h builds it (buffers not counted).
int64_t NetworkParameters(const NetworkOptions& network, int inputs,
                          int outputs);

// The generator's and the critic's parameter counts for `options`.
int64_t GeneratorParameters(const TrainOptions& options);
int64_t CriticParameters(const TrainOptions& options);

}  // namespace proxflow::core

#endif  // PROXFLOW_CORE_NETWORK_SIZE_H_
