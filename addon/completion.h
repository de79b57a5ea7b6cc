// What the progress thread reports back to JavaScript, delivered in batches through
// one thread-safe function call.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "payload.h"

namespace mpilock {

enum class LockKind : int32_t { kRead = 0, kWrite = 1 };

struct Completion {
  enum class Type : int32_t {
    kInit = 0,           // token; rank, size, threadLevel, library
    kWindowCreated = 1,  // token, window
    kWindowFreed = 2,    // token, window
    kGranted = 3,        // window, lockKind, seq
    kWithdrawn = 4,      // window, lockKind, seq
    kBarrier = 5,        // token, window
    kBroadcast = 6,      // token, window, payload
    kError = 7,          // token, window, message
    kAgree = 8,          // token, window, low, high
    kCounters = 9,       // window, counters: a sample of the lock's state (unsolicited)
    kComm = 10,          // token, window (the communicator's id), rank, size
    kCommFreed = 11,     // token, window (the communicator's id)
  };
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
  std::unique_ptr<Payload> payload;
};

using CompletionBatch = std::vector<Completion>;

}  // namespace mpilock
