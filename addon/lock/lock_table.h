// A lock table (sync({ locks: n }), like Global Arrays' GA_Create_mutexes(n)): n independent
// readers-writer locks on ONE MPI window, ONE duplicated communicator and, when every rank
// is on one node, ONE shared-memory segment. Entry i's global lock counters are block i of
// the master's window (i * kWindowSlots int64 slots, its revocation slot the same block on
// every rank); its node lock is region i of the segment (tableRegionStride bytes each,
// 64-byte aligned). What is per entry is the lock state: one LockWindow (requests, read
// bias) and one NodeLevel (requests, lazily made waiter threads). An ordinary controller
// window is a table of one.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "lock/lock_window.h"
#include "lock/node_level.h"
#include "protocol/protocol.h"
#include "runtime/mpi_headers.h"

namespace mpilock {

constexpr int kMaxTableEntries = static_cast<int>(TableLimits::kMaxEntries);

// Bytes between the node-lock regions of two entries, for `slots` ranks.
size_t tableRegionStride(uint32_t slots);
// The bytes of a table's segment: `count` regions, rounded up to whole pages.
size_t tableSegmentBytes(int count, uint32_t slots);

// Entry i's node lock over region i of `segment`, for every entry; empty (and `why` set)
// when one cannot be made (a region of another geometry, for one).
std::vector<std::unique_ptr<NodeLevel>> tableNodeLevels(std::shared_ptr<NodeSegment> segment,
                                                        int count, uint32_t slots, uint32_t slot,
                                                        std::string& why);

// Entry i's view of the global lock on the table's window.
std::vector<std::unique_ptr<LockWindow>> tableLocks(MPI_Comm comm, MPI_Win win, int master,
                                                    int64_t* base, bool biasedReads, int count);

// What this process made and holds (for tests and doctor; node/binding.cc `resources()`).
// Live counts go up and down; `Made` counts only go up.
struct TableCounts {
  std::atomic<int64_t> windowsLive{0};  // lock windows (MPI_Win) allocated and not freed
  std::atomic<int64_t> windowsMade{0};
  std::atomic<int64_t> entriesLive{0};     // lock table entries, over all windows
  std::atomic<int64_t> nodeSplits{0};      // MPI_Comm_split_type calls for node locks
  std::atomic<int64_t> segmentsMapped{0};  // node-lock segments this process mapped
};
TableCounts& tableCounts();

}  // namespace mpilock
