#include "lock_window.h"

#include "completion.h"

namespace mpilock {

LockWindow::LockWindow(MPI_Comm comm, MPI_Win win, int master, int64_t* base)
    : comm_(comm),
      win_(win),
      master_(master),
      base_(base),
      atomics_(win, master),
      lock_(atomics_) {}

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
  bool granted = kind == LockKind::kRead ? lock_.readBegin() : lock_.writeBegin();
  s.state = granted ? State::kHeld : State::kPending;
  s.jsPolls = !granted && jsPolls;
  return granted ? Begin::kGranted : Begin::kPending;
}

bool LockWindow::pollFromJs(LockKind kind, uint32_t seq, bool handOver) {
  Slot& s = slot(kind);
  if (s.state != State::kPending || s.seq != seq || !s.jsPolls) return false;
  bool granted = kind == LockKind::kRead ? lock_.readPoll() : lock_.writePoll();
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
  lock_.readEnd();
  read_.state = State::kIdle;
}

void LockWindow::endWrite(bool downgrade) {
  if (write_.state != State::kHeld) return;
  if (downgrade && read_.state == State::kIdle) {
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
    bool granted = kind == LockKind::kRead ? lock_.readPoll() : lock_.writePoll();
    if (granted) {
      s.state = State::kHeld;
      r.granted = r.progressed = true;
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
      r.withdrawn = r.progressed = true;
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
  endRead();
  endWrite(false);
  for (Slot* s : {&read_, &write_}) {
    if (s->state == State::kPending) s->state = State::kWithdrawing;
    s->jsPolls = false;
    s->restart = false;
  }
}

}  // namespace mpilock
