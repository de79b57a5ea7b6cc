// Lock tables: see lock_table.h.
#include "lock/lock_table.h"

#include "lock/read_bias.h"

namespace mpilock {

size_t tableRegionStride(uint32_t slots) { return (node::regionBytes(slots) + 63) & ~size_t{63}; }

size_t tableSegmentBytes(int count, uint32_t slots) {
  size_t bytes = tableRegionStride(slots) * static_cast<size_t>(count < 1 ? 1 : count);
  return (bytes + 4095) & ~size_t{4095};
}

std::vector<std::unique_ptr<NodeLevel>> tableNodeLevels(std::shared_ptr<NodeSegment> segment,
                                                        int count, uint32_t slots, uint32_t slot,
                                                        std::string& why) {
  std::vector<std::unique_ptr<NodeLevel>> levels;
  size_t stride = tableRegionStride(slots);
  if (segment->bytes() < stride * static_cast<size_t>(count)) {
    why = "the node's shared memory is smaller than the table";
    return levels;
  }
  levels.reserve(static_cast<size_t>(count));
  try {
    for (int i = 0; i < count; ++i) {
      levels.push_back(std::make_unique<NodeLevel>(segment, slots, slot, node::Options{},
                                                   stride * static_cast<size_t>(i), stride));
    }
  } catch (const std::exception& e) {
    why = e.what();
    levels.clear();
  }
  return levels;
}

std::vector<std::unique_ptr<LockWindow>> tableLocks(MPI_Comm comm, MPI_Win win, int master,
                                                    int64_t* base, bool biasedReads, int count) {
  std::vector<std::unique_ptr<LockWindow>> locks;
  locks.reserve(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) {
    MPI_Aint block = static_cast<MPI_Aint>(i) * kWindowSlots;
    locks.push_back(std::make_unique<LockWindow>(comm, win, master, base, biasedReads, block));
  }
  return locks;
}

TableCounts& tableCounts() {
  static TableCounts counts;
  return counts;
}

}  // namespace mpilock
