// The lock's counters in an MPI window: passive-target atomics inside one
// MPI_Win_lock_all epoch, each completed with MPI_Win_flush before it returns. A lock table
// keeps its entries' blocks side by side in one window: every displacement here is relative
// to the entry's block (`block`, in int64_t slots: entry i * kWindowSlots).
#pragma once
#include <cstdint>

#include "lock/phase_fair_lock.h"
#include "runtime/mpi_headers.h"

namespace mpilock {

class WindowAtomics {
 public:
  WindowAtomics(MPI_Win win, int master, MPI_Aint block = 0)
      : win_(win), master_(master), block_(block) {}

  int64_t fetchAdd(Counter c, int64_t delta) {
    int64_t old = 0;
    MPI_Fetch_and_op(&delta, &old, MPI_INT64_T, master_, block_ + c, MPI_SUM, win_);
    MPI_Win_flush(master_, win_);
    return old;
  }
  // Adds one to slot `disp` of `rank`'s window without waiting for it to complete (the
  // origin buffer is a member, so it stays valid until MPI is done with it).
  void incrementAt(int rank, int disp) {
    MPI_Accumulate(&one_, 1, MPI_INT64_T, rank, block_ + disp, 1, MPI_INT64_T, MPI_SUM, win_);
  }
  // Sends what incrementAt() queued (osc pt2pt holds operations back until a flush)
  // without waiting for the targets to apply them.
  void pushLocal() { MPI_Win_flush_local_all(win_); }

  // All four lock counters in one round trip, each read atomically (not as one snapshot).
  void loadAll(int64_t out[kCounterCount]) {
    MPI_Get_accumulate(nullptr, 0, MPI_INT64_T, out, kCounterCount, MPI_INT64_T, master_, block_,
                       kCounterCount, MPI_INT64_T, MPI_NO_OP, win_);
    MPI_Win_flush(master_, win_);
  }

  // MPI_NO_OP makes the read atomic with respect to the concurrent fetch-and-adds.
  int64_t load(Counter c) {
    int64_t value = 0;
    MPI_Fetch_and_op(nullptr, &value, MPI_INT64_T, master_, block_ + c, MPI_NO_OP, win_);
    MPI_Win_flush(master_, win_);
    return value;
  }

 private:
  MPI_Win win_;
  int master_;
  MPI_Aint block_;
  const int64_t one_ = 1;
};

}  // namespace mpilock
