// Phase-fair ticket readers-writer lock (PF-T, Brandenburg and Anderson, 2010) on four
// 64-bit counters that live in one place (the master's window). Every step is a single
// atomic fetch-and-add or an atomic load, so the algorithm needs no compare-and-swap.
//
// Counters (kReadIn, kReadOut, kWriteIn, kWriteOut):
//   readIn   = kReaderInc * (readers that ever entered) + writer bits
//   readOut  = kReaderInc * (readers that ever left)
//   writeIn  = writer tickets handed out;  writeOut = writer tickets served
// Writer bits (low 24 bits of readIn): kPresent | phase | (writer rank + 1) << 2, with
// phase = ticket & 1, so the counters also tell who writes. Counters wrap modulo 2^64
// harmlessly: the algorithm only compares them for equality.
//
// Invariants (spec'd in spec/, model-checked in model/):
//   I1 at most one writer is past its turn (writeOut == its ticket) at a time;
//   I2 writer bits are non-zero exactly while that writer is draining or holding;
//   I3 a writer holds only when readOut == readIn (minus its bits) as read at its
//      entry: every reader that entered before it has left, so no reader holds;
//   I4 a reader that entered while writer bits were B holds only once readIn's bits
//      differ from B: that writer has left (phase-fair: one writer phase at most);
//   I5 writers are served in ticket order (FIFO), readers wait at most one writer
//      phase, writers wait at most for the readers ahead of them: nobody starves.
// A blocked reader cannot withdraw (its entry is counted by the next writer), and a
// writer cannot give back its ticket: a cancelled request completes and releases.
// Model: model/phase_fair_lock.pml (spin), step for step.
#pragma once
#include <cstdint>

namespace mpilock {

enum Counter : int { kReadIn = 0, kReadOut = 1, kWriteIn = 2, kWriteOut = 3, kCounterCount = 4 };

constexpr int64_t kReaderInc = int64_t{1} << 24;
constexpr int64_t kWriterBits = kReaderInc - 1;
constexpr int64_t kPresent = 0x2;
constexpr int64_t kPhase = 0x1;
constexpr int kWriterRankShift = 2;

// What the four counters say, for observers (sampled, so possibly a moment old).
struct LockState {
  int64_t readers;        // entered and not left: holding, or waiting out a writer phase
  int64_t writer;         // rank of the writer draining or holding, -1 if none
  int64_t writersQueued;  // writers with a ticket not yet served (the current one included)
  int64_t phase;          // phase bit of the current or last writer
};

inline LockState decodeState(const int64_t c[kCounterCount]) {
  auto u = [](int64_t v) { return static_cast<uint64_t>(v); };
  LockState s;
  s.readers = static_cast<int64_t>((u(c[kReadIn]) - u(c[kReadOut])) >> 24);
  int64_t bits = c[kReadIn] & kWriterBits;
  s.writer = bits & kPresent ? (bits >> kWriterRankShift) - 1 : -1;
  s.writersQueued = static_cast<int64_t>(u(c[kWriteIn]) - u(c[kWriteOut]));
  s.phase = bits & kPhase;
  return s;
}

// Atomics is anything with `int64_t fetchAdd(Counter, int64_t)` and `int64_t load(Counter)`,
// both atomic with respect to each other and complete (visible) on return.
template <class Atomics>
class PhaseFairLock {
 public:
  PhaseFairLock(Atomics& atomics, int rank)
      : a_(atomics), rankTag_(int64_t{rank + 1} << kWriterRankShift) {}

  // Reader entry: true when granted at once, otherwise poll readPoll() until true.
  bool readBegin() {
    readBlockedBits_ = a_.fetchAdd(kReadIn, kReaderInc) & kWriterBits;
    return readBlockedBits_ == 0;
  }
  bool readPoll() { return (a_.load(kReadIn) & kWriterBits) != readBlockedBits_; }
  void readEnd() { a_.fetchAdd(kReadOut, kReaderInc); }

  // Writer entry: true when granted at once, otherwise poll writePoll() until true.
  bool writeBegin() {
    ticket_ = a_.fetchAdd(kWriteIn, 1);
    stage_ = Stage::kTurn;
    return writePoll();
  }
  bool writePoll() {
    if (stage_ == Stage::kTurn) {
      if (a_.load(kWriteOut) != ticket_) return false;
      writerBits_ = kPresent | (ticket_ & kPhase) | rankTag_;
      // Previous writer cleared its bits before passing the turn: readIn has none (I2).
      readersAhead_ = a_.fetchAdd(kReadIn, writerBits_) & ~kWriterBits;
      stage_ = Stage::kDrain;
    }
    if (stage_ == Stage::kDrain) {
      if (a_.load(kReadOut) != readersAhead_) return false;
      stage_ = Stage::kHeld;
    }
    return true;
  }
  // Release: clear the bits first, then pass the turn, so the next writer sees no bits.
  void writeEnd() {
    a_.fetchAdd(kReadIn, -writerBits_);
    a_.fetchAdd(kWriteOut, 1);
    stage_ = Stage::kIdle;
  }
  // Atomic downgrade: enter as a reader while the bits still block other writers, then
  // leave as writer. No writer can come between (I3 counts this reader for the next one).
  void downgrade() {
    a_.fetchAdd(kReadIn, kReaderInc);
    writeEnd();
  }
  // A writer that has its turn and waits for the readers ahead of it to leave.
  bool writeDraining() const { return stage_ == Stage::kDrain; }

  // Withdraw a pending write request: it completes (turn, bits, drain) and leaves at once.
  // Handing the turn on early would let the next writer of the same phase (and rank)
  // raise the very bits that readers blocked two phases ago still wait to see change
  // (an ABA that model/phase_fair_lock.pml found): those readers must leave first.
  bool writeWithdrawPoll() {
    if (stage_ == Stage::kIdle) return true;
    if (stage_ != Stage::kHeld && !writePoll()) return false;
    writeEnd();
    return true;
  }

 private:
  enum class Stage { kIdle, kTurn, kDrain, kHeld };
  Atomics& a_;
  int64_t rankTag_;
  int64_t readBlockedBits_ = 0;
  int64_t ticket_ = 0;
  int64_t writerBits_ = 0;
  int64_t readersAhead_ = 0;
  Stage stage_ = Stage::kIdle;
};

}  // namespace mpilock
