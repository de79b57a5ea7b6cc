// Request slots of one rank (begin, poll, withdraw, endRead, endWrite, watchCached): each
// remote step here is a statement of model/phase_fair_lock.pml (marked "C++:" there).
#include "lock/lock_window.h"

#include "protocol/completion.h"

namespace mpilock {

static int rankOf(MPI_Comm comm) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  return rank;
}

LockWindow::LockWindow(MPI_Comm comm, MPI_Win win, int master, int64_t* base, bool biasedReads,
                       MPI_Aint block)
    : comm_(comm),
      win_(win),
      master_(master),
      base_(base + block),
      block_(block),
      atomics_(win, master, block),
      lock_(atomics_, rankOf(comm)),
      bias_(base_, biasedReads) {
  MPI_Comm_rank(comm, &rank_);
  MPI_Comm_size(comm, &size_);
}

bool LockWindow::granted(LockKind kind) {
  if (kind == LockKind::kRead) return lock_.readPoll();
  if (lock_.writePoll()) return true;
  // Readers ahead of this writer: ask ranks that cache a read hold to give it back. Only
  // a local flush: with emulated atomics (osc pt2pt) a full one would wait for every
  // rank's progress, and idle ranks sleep. A rank that caches polls MPI while it watches.
  if (bias_.enabled() && lock_.writeDraining() && !revokedForThisWrite_) {
    revokedForThisWrite_ = true;
    for (int r = 0; r < size_; ++r) {
      if (r != rank_) atomics_.incrementAt(r, kRevokeSlot);
    }
    atomics_.pushLocal();
  }
  return false;
}

void LockWindow::readEnd(ReadBias::Clock::time_point now, bool revoked) {
  lock_.readEnd();
  read_.state = State::kIdle;
  if (revoked) bias_.inhibit(now);
}

LockWindow::Begin LockWindow::begin(LockKind kind, uint32_t seq, bool jsPolls) {
  Slot& s = slot(kind);
  s.jsPolls = false;
  if (s.state == State::kWithdrawing) {
    // The old request must finish withdrawing first; poll() starts this one after.
    s.restart = true;
    s.restartSeq = seq;
    return Begin::kPending;
  }
  s.seq = seq;
  bool granted;
  if (kind == LockKind::kRead) {
    if (s.state == State::kCached) {
      if (!bias_.revokedSince(readSeen_)) {
        s.state = State::kHeld;  // no remote atomic at all
        return Begin::kGranted;
      }
      readEnd(ReadBias::Clock::now(), true);
    }
    readSeen_ = bias_.snapshot();  // before entering: a revocation after it is seen
    granted = lock_.readBegin();
  } else {
    // Our own cached read would be among the readers this writer waits for.
    if (read_.state == State::kCached) readEnd(ReadBias::Clock::now(), false);
    revokedForThisWrite_ = false;
    granted = lock_.writeBegin() || this->granted(LockKind::kWrite);
  }
  s.state = granted ? State::kHeld : State::kPending;
  s.jsPolls = !granted && jsPolls;
  return granted ? Begin::kGranted : Begin::kPending;
}

bool LockWindow::looksFree(LockKind kind) {
  int64_t c[kCounterCount];
  atomics_.loadAll(c);
  bool noWriter = (c[kReadIn] & kWriterBits) == 0;
  if (kind == LockKind::kRead) return noWriter;
  return noWriter && (c[kReadIn] & ~kWriterBits) == c[kReadOut] && c[kWriteIn] == c[kWriteOut];
}

LockWindow::Try LockWindow::tryBegin(LockKind kind, uint32_t seq) {
  Slot& s = slot(kind);
  bool cached = read_.state == State::kCached;
  if (s.state != State::kIdle && !(kind == LockKind::kRead && cached)) return Try::kBusy;
  // Our own cached read would count as a reader ahead of this writer.
  if (kind == LockKind::kWrite && cached) readEnd(ReadBias::Clock::now(), false);
  // A cached read is taken back without a look at the counters (begin() checks it).
  if (!(kind == LockKind::kRead && cached) && !looksFree(kind)) return Try::kBusy;
  if (begin(kind, seq) == Begin::kGranted) return Try::kGranted;
  // Somebody came in between the look and the request: it cannot be taken back at once
  // (phase_fair_lock.h), so it completes in the background and leaves.
  withdraw(kind, seq);
  return Try::kWithdrawing;
}

bool LockWindow::pollFromJs(LockKind kind, uint32_t seq, bool handOver) {
  Slot& s = slot(kind);
  if (s.state != State::kPending || s.seq != seq || !s.jsPolls) return false;
  bool granted = this->granted(kind);
  if (granted) {
    s.state = State::kHeld;
    s.jsPolls = false;
  } else if (handOver) {
    s.jsPolls = false;
  }
  return granted;
}

void LockWindow::endRead() {
  if (read_.state != State::kHeld) return;
  auto now = ReadBias::Clock::now();
  if (write_.state == State::kIdle && bias_.mayCache(readSeen_, now)) {
    read_.state = State::kCached;
    cachedSince_ = now;
  } else {
    readEnd(now, bias_.revokedSince(readSeen_));
  }
}

bool LockWindow::watchCached(ReadBias::Clock::time_point now) {
  if (read_.state != State::kCached) return false;
  // Transports that emulate atomics apply a writer's revocation only while we poll MPI.
  int flag = 0;
  MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, comm_, &flag, MPI_STATUS_IGNORE);
  bool revoked = bias_.revokedSince(readSeen_);
  if (revoked || now - cachedSince_ >= ReadBias::kIdleRelease) {
    readEnd(now, revoked);
    return false;
  }
  return true;
}

void LockWindow::endWrite(bool downgrade) {
  if (write_.state != State::kHeld) return;
  if (downgrade && read_.state == State::kIdle) {
    readSeen_ = bias_.snapshot();
    lock_.downgrade();
    read_.state = State::kHeld;
  } else {
    lock_.writeEnd();
  }
  write_.state = State::kIdle;
}

bool LockWindow::withdraw(LockKind kind, uint32_t seq) {
  Slot& s = slot(kind);
  if (s.state == State::kWithdrawing && s.restart && s.restartSeq == seq) {
    s.restart = false;
    return true;
  }
  if (s.state == State::kPending && s.seq == seq) {
    s.state = State::kWithdrawing;
    s.jsPolls = false;
  }
  return false;
}

LockWindow::PollResult LockWindow::poll(LockKind kind) {
  Slot& s = slot(kind);
  PollResult r;
  r.seq = s.seq;
  if (s.state == State::kPending && !s.jsPolls) {
    if (granted(kind)) {
      s.state = State::kHeld;
      r.granted = true;
    }
  } else if (s.state == State::kWithdrawing) {
    bool done;
    if (kind == LockKind::kRead) {
      done = lock_.readPoll();
      if (done) lock_.readEnd();
    } else {
      done = lock_.writeWithdrawPoll();
    }
    if (done) {
      s.state = State::kIdle;
      r.withdrawn = true;
      if (s.restart) {
        s.restart = false;
        r.restarted = true;
        r.restartSeq = s.restartSeq;
        r.restartGranted = begin(kind, s.restartSeq) == Begin::kGranted;
      }
    }
  }
  return r;
}

bool LockWindow::busy() const {
  auto waiting = [](const Slot& s) {
    return (s.state == State::kPending && !s.jsPolls) || s.state == State::kWithdrawing;
  };
  return waiting(read_) || waiting(write_);
}

void LockWindow::releaseEverything() {
  if (node_) node_->releaseEverything();  // waits for a waiter thread to give its request up
  if (read_.state == State::kCached) readEnd(ReadBias::Clock::now(), false);
  if (read_.state == State::kHeld) readEnd(ReadBias::Clock::now(), false);
  endWrite(false);
  for (Slot* s : {&read_, &write_}) {
    if (s->state == State::kPending) s->state = State::kWithdrawing;
    s->jsPolls = false;
    s->restart = false;
  }
}

}  // namespace mpilock
