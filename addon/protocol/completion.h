// What the progress thread reports back to JavaScript, delivered in batches through
// one thread-safe function call (node/binding.cc turns each into an object). The codes
// are in protocol.h.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "protocol/payload.h"
#include "protocol/protocol.h"

namespace mpilock {

struct Completion {
  using Type = CompletionType;
  explicit Completion(Type t) : type(t) {}
  Type type;
  uint32_t token = 0;
  int32_t window = -1;
  LockKind lockKind = LockKind::kRead;
  uint32_t seq = 0;
  int32_t rank = 0, size = 1, threadLevel = 0;
  int64_t low = 0, high = 0;
  int64_t state[4] = {0, 0, 0, 0};  // kCounters: LockState readers, writer, queued, phase
  std::string text;                 // library version or error message
  // kInit: the one-sided (osc) component the windows will use, "" when MPI does not say,
  // and Open MPI's "osc" MCA parameter as set (runtime/one_sided.h).
  std::string oneSided, oneSidedSetting;
  std::unique_ptr<Payload> payload;
};

using CompletionBatch = std::vector<Completion>;

}  // namespace mpilock
