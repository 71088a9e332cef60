// A structural check of checkpoint bytes before LibTorch parses them (issue
// "security": a malformed or malicious checkpoint gives a clean error, never a
// crash, hang or unbounded allocation). Fuzzing found that LibTorch 1.13's
// unpickler reserves whatever length a corrupted BINUNICODE/BINBYTES opcode
// claims (gigabytes from a few flipped bits). Torch-free.
#ifndef PROXFLOW_CORE_CHECKPOINT_GUARD_H_
#define PROXFLOW_CORE_CHECKPOINT_GUARD_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace proxflow::core {

// OK when `bytes` is a zip archive as LibTorch writes it — entries stored, or
// deflated with a plausible inflated size (TorchScript code), their data inside
// the file before the central directory — and every pickle record (*.pkl,
// stored) is a sequence of known protocol-2 opcodes whose lengths stay inside
// the record. INVALID_ARGUMENT saying what is wrong
// and where otherwise. Linear in the size of the bytes; allocates nothing
// proportional to any length read from them.
absl::Status CheckCheckpointContainer(absl::string_view bytes);

}  // namespace proxflow::core

#endif  // PROXFLOW_CORE_CHECKPOINT_GUARD_H_
