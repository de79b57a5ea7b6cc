// Biased reads (after BRAVO, Dice and Kogan 2019, here across ranks): a rank keeps its
// global read hold after its last local reader left, so that its next read costs no
// remote atomic while no writer is around. A writer that finds readers ahead of it bumps
// a revocation counter in every other rank's window; a rank that sees its counter move
// gives the cached hold back (readEnd) and caches nothing for a while.
//
// Safety does not depend on any of this: a cached hold is a real read hold, counted in
// readIn, so a writer can never be granted while one exists. Only a writer's wait does.
// Model: model/phase_fair_lock.pml (the revocation counter as a "moved since snapshot" bit).
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>

namespace mpilock {

// Window slot (in units of int64_t) of each rank's revocation counter; the lock
// counters use slots 0..kCounterCount-1 at the master.
constexpr int kRevokeSlot = 4;
constexpr int kWindowSlots = 5;

class ReadBias {
 public:
  using Clock = std::chrono::steady_clock;

  ReadBias(int64_t* base, bool enabled)
      : slot_(base ? base + kRevokeSlot : nullptr), on_(enabled) {}

  // The revocation count now; a hold taken after this is revoked once the count moves.
  int64_t snapshot() const {
    return slot_ ? reinterpret_cast<std::atomic<int64_t>*>(slot_)->load(std::memory_order_acquire)
                 : 0;
  }
  bool revokedSince(int64_t seen) const { return snapshot() != seen; }
  bool enabled() const { return on_; }

  // Whether a read hold that lost its last local reader may stay cached.
  bool mayCache(int64_t seen, Clock::time_point now) const {
    return on_ && now >= inhibitUntil_ && !revokedSince(seen);
  }
  // A revocation was seen: cache nothing for a while, so that ranks that read and write
  // in quick alternation do not pay a revocation per write.
  void inhibit(Clock::time_point now) { inhibitUntil_ = now + kInhibit; }
  // A cached hold unused for this long is given back, so that an idle rank sleeps.
  static constexpr std::chrono::milliseconds kIdleRelease{10};
  static constexpr std::chrono::milliseconds kInhibit{2};

 private:
  int64_t* slot_;
  bool on_;
  Clock::time_point inhibitUntil_{};
};

}  // namespace mpilock
