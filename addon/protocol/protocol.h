// The numbers JavaScript and the addon exchange, defined here once.
// scripts/gen-protocol.mjs writes lib/runtime/mpi/protocol.ts from this file (each
// `enum class Name : int32_t` with `kMember = number` lines); spec/protocol.spec.ts fails
// when that file is stale. Keep to that shape: one member per line, explicit values.
#pragma once
#include <cstdint>

namespace mpilock {

// The two kinds of the global readers-writer lock.
enum class LockKind : int32_t {
  kRead = 0,
  kWrite = 1,
};

// What the progress thread reports (Completion::type), with the fields each fills in.
enum class CompletionType : int32_t {
  kInit = 0,           // token; rank, size, threadLevel, library, oneSided
  kWindowCreated = 1,  // token, window (entry 0); low: 1 if node lock, high: entries; text: why not
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
  kSlotsCreated = 12,  // token, window (the slot window's id)
  kSlotsFreed = 13,    // token, window (the slot window's id)
  kFetched = 14,       // token, window, low: the slot's value before the fetch-and-add
  kHead = 15,          // window, lockKind, seq: next in line; the caller polls it (pollLock)
  kNudge = 16,         // window: another rank of the node changed what the toolkit waits on
};

// Lock tables (sync({ locks }), lock/lock_table.h): one window of up to this many entries.
enum class TableLimits : int32_t {
  kMaxEntries = 4096,
};

// What beginLock, tryLock and pollLock answer at once.
enum class Pending : int32_t {
  kThreadPolls = 0,  // pending: a kGranted or kWithdrawn completion with the seq follows
  kGranted = 1,      // granted synchronously
  kJsPolls = 2,      // pending: the caller polls it (pollLock)
  kBusy = 3,         // tryLock: declined, nothing changed, no completion follows
  kWithdrawing = 4,  // tryLock: declined; a kWithdrawn completion follows
};

}  // namespace mpilock
