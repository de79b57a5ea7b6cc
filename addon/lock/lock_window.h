// One controller's MPI resources (a duplicated communicator and the lock window) and
// this rank's view of the lock on it: at most one global read and one global write
// request per rank, shared out to local tasks by the TypeScript scheduler.
// Every method must be called with the runtime's MPI mutex held.
#pragma once
#include <cstdint>
#include <memory>

#include "lock/node_level.h"
#include "lock/phase_fair_lock.h"
#include "lock/read_bias.h"
#include "lock/window_atomics.h"
#include "protocol/completion.h"
#include "runtime/mpi_headers.h"

namespace mpilock {

class LockWindow {
 public:
  // kCached (reads only): held globally, released locally (see read_bias.h).
  enum class State { kIdle, kPending, kHeld, kWithdrawing, kCached };
  enum class Begin { kGranted, kPending };
  // kBusy: not started, nothing changed; kWithdrawing: started, not granted at once, and
  // being withdrawn (a poll reports it withdrawn).
  enum class Try { kGranted, kBusy, kWithdrawing };

  // `block`: where this lock's slots start in the window (a lock table's entry i: i *
  // kWindowSlots), on the master (counters) and on every rank (revocation slot).
  LockWindow(MPI_Comm comm, MPI_Win win, int master, int64_t* base, bool biasedReads,
             MPI_Aint block = 0);

  // `jsPolls`: the JavaScript thread polls this request itself for a while (pollFromJs)
  // before it hands it over to the progress thread; until then the thread leaves it alone.
  Begin begin(LockKind kind, uint32_t seq, bool jsPolls = false);
  // tryRead()/tryWrite(): a request only if the counters say the lock is free for `kind`
  // (one read of the counters, no change when busy), withdrawn at once when a request
  // that came in between makes it wait. Only for a slot with no request in flight.
  Try tryBegin(LockKind kind, uint32_t seq);
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
    // A request that arrived while the old one withdrew was started in its place.
    bool restarted = false, restartGranted = false;
    uint32_t restartSeq = 0;
  };
  PollResult poll(LockKind kind);

  bool busy() const;  // any request pending or withdrawing
  bool readCached() const { return read_.state == State::kCached; }
  // Gives a cached read back when it was revoked or unused for long; true while one stays.
  bool watchCached(ReadBias::Clock::time_point now);
  void releaseEverything();  // at shutdown: withdraw what is pending, end what is held

  // The node lock that serves this window's requests instead of the counters, when every
  // rank is on one node (node_level.h); null otherwise. Shared with the JavaScript thread.
  void setNodeLevel(std::shared_ptr<NodeLevel> level) { node_ = std::move(level); }
  const std::shared_ptr<NodeLevel>& nodeLevel() const { return node_; }

  MPI_Comm comm() const { return comm_; }
  MPI_Win win() const { return win_; }
  int master() const { return master_; }
  int rank() const { return rank_; }  // in comm()
  MPI_Aint block() const { return block_; }
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

  bool looksFree(LockKind kind);  // the counters, read once: no writer (and, for a
                                  // writer, no reader and no queued writer either)
  bool granted(LockKind kind);    // lock_.readPoll / writePoll, revoking cached readers
  void readEnd(ReadBias::Clock::time_point now, bool revoked);

  MPI_Comm comm_;
  MPI_Win win_;
  int master_;
  int64_t* base_;  // this lock's block in the local window
  MPI_Aint block_;
  int rank_ = 0, size_ = 1;
  WindowAtomics atomics_;
  PhaseFairLock<WindowAtomics> lock_;
  ReadBias bias_;
  int64_t readSeen_ = 0;  // revocation count when the read hold was taken
  ReadBias::Clock::time_point cachedSince_{};
  bool revokedForThisWrite_ = false;
  Slot read_, write_;
  std::shared_ptr<NodeLevel> node_;
};

}  // namespace mpilock
