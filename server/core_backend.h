// The production TrainingBackend (core::Trainer) and SamplingBackend
// (core::FlowModel), LibTorch both. Only the server
// binary links it; server library code and its tests stay torch-free.
#ifndef PROXFLOW_SERVER_CORE_BACKEND_H_
#define PROXFLOW_SERVER_CORE_BACKEND_H_

#include <memory>

#include "server/sampling/sampling_backend.h"
#include "server/training_backend.h"

namespace proxflow::server {

std::unique_ptr<TrainingBackend> MakeCoreTrainingBackend();
std::unique_ptr<SamplingBackend> MakeCoreSamplingBackend();

}  // namespace proxflow::server

#endif  // PROXFLOW_SERVER_CORE_BACKEND_H_
