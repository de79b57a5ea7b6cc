// One controller's MPI resources (a duplicated communicator and the lock window) and
// this rank's view of the lock on it: at most one global read and one global write
// request per rank, shared out to local tasks by the TypeScript scheduler.
// Every method must be called with the runtime's MPI mutex held.
#pragma once
#include <cstdint>

#include "completion.h"
#include "mpi_headers.h"
#include "phase_fair_lock.h"
#include "window_atomics.h"

namespace mpilock {

class LockWindow {
 public:
  enum class State { kIdle, kPending, kHeld, kWithdrawing };
  enum class Begin { kGranted, kPending };

  LockWindow(MPI_Comm comm, MPI_Win win, int master, int64_t* base);

  // `jsPolls`: the JavaScript thread polls this request itself for a while (pollFromJs)
  // before it hands it over to the progress thread; until then the thread leaves it alone.
  Begin begin(LockKind kind, uint32_t seq, bool jsPolls = false);
  // One poll of a request the JavaScript thread polls: true when granted now. `handOver`
  // passes a still pending request on to the progress thread.
  bool pollFromJs(LockKind kind, uint32_t seq, bool handOver);
  void endRead();
  void endWrite(bool downgrade);
  // Withdraw the pending request `seq`. One that was granted already is left alone (its
  // grant is on its way; the caller releases it). Returns true when `seq` was a request
  // queued behind a withdrawal and is dropped at once (no poll will report it).
  bool withdraw(LockKind kind, uint32_t seq);

  struct PollResult {
    bool granted = false, withdrawn = false;
    uint32_t seq = 0;
    bool progressed = false;
    // A request that arrived while the old one withdrew was started in its place.
    bool restarted = false, restartGranted = false;
    uint32_t restartSeq = 0;
  };
  PollResult poll(LockKind kind);

  bool busy() const;         // any request pending or withdrawing
  void releaseEverything();  // at shutdown: withdraw what is pending, end what is held

  MPI_Comm comm() const { return comm_; }
  MPI_Win win() const { return win_; }
  int master() const { return master_; }
  const int64_t* counters() const { return base_; }

 private:
  struct Slot {
    State state = State::kIdle;
    uint32_t seq = 0;
    bool jsPolls = false;  // the JavaScript thread polls it (the progress thread skips it)
    bool restart = false;  // a new request arrived while withdrawing
    uint32_t restartSeq = 0;
  };
  Slot& slot(LockKind kind) { return kind == LockKind::kRead ? read_ : write_; }
  const Slot& slot(LockKind kind) const { return kind == LockKind::kRead ? read_ : write_; }

  MPI_Comm comm_;
  MPI_Win win_;
  int master_;
  int64_t* base_;
  WindowAtomics atomics_;
  PhaseFairLock<WindowAtomics> lock_;
  Slot read_, write_;
};

}  // namespace mpilock
