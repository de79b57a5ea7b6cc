// Helpers shared by the node lock's two sources (not part of the interface).
#pragma once
#include <cstddef>
#include <cstdint>

#include "node_lock.h"

namespace mpilock::node::detail {

constexpr uint32_t kMagic = 0x4e4c4b31;  // "NLK1"
constexpr uint32_t kStateMask = ~kWriterBits;
// Drain word: target rout << 32 | kDrainWithdrawn (writer withdrawn mid-drain) | slot + 1.
constexpr uint64_t kDrainWithdrawn = uint64_t{1} << 31;
inline uint32_t drainSlot(uint64_t d) { return (static_cast<uint32_t>(d) & 0xffff) - 1; }

inline size_t align64(size_t n) { return (n + 63) & ~size_t{63}; }

inline uint64_t pack(uint32_t ticket, uint32_t slot, uint32_t state) {
  return uint64_t{ticket} << 32 | uint64_t{slot} << 8 | state;
}
inline uint32_t ticketOf(uint64_t e) { return static_cast<uint32_t>(e >> 32); }
inline uint32_t slotOf(uint64_t e) { return static_cast<uint32_t>(e >> 8) & 0xffffff; }
inline uint32_t stateOf(uint64_t e) { return static_cast<uint32_t>(e) & 0xff; }

// True when the process is gone: no such pid, or a zombie nobody reaped yet.
bool processGone(uint32_t pid);

}  // namespace mpilock::node::detail
