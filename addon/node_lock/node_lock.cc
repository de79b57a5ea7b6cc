// Node-level lock: the steps described in node_lock.h. Every access to shared state is a
// seq_cst std::atomic operation: the lost-wake-up and Dekker arguments in the header need a
// single total order, and on x86 only the stores and RMWs pay for it.
#include "node_lock.h"

#include <sched.h>
#include <signal.h>
#include <unistd.h>
#if MPILOCK_HAS_FUTEX
#include <linux/futex.h>
#include <sys/syscall.h>
#endif

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <string>

#include "node_lock_internal.h"

namespace mpilock::node {

static_assert(std::atomic<uint32_t>::is_always_lock_free && sizeof(std::atomic<uint32_t>) == 4,
              "futex words must be plain 32-bit words");
static_assert(std::atomic<uint64_t>::is_always_lock_free, "64-bit atomics must be address-free");

namespace {

using namespace detail;

#if MPILOCK_HAS_FUTEX
uint32_t* word(std::atomic<uint32_t>& a) { return reinterpret_cast<uint32_t*>(&a); }

// FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC deadline (steady_clock's epoch).
long futexWait(std::atomic<uint32_t>& w, uint32_t expected, Clock::time_point until) {
  timespec ts{};
  const timespec* tp = nullptr;
  if (until != Clock::time_point::max()) {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(until.time_since_epoch());
    ts.tv_sec = static_cast<time_t>(ns.count() / 1000000000);
    ts.tv_nsec = static_cast<long>(ns.count() % 1000000000);
    tp = &ts;
  }
  return syscall(SYS_futex, word(w), FUTEX_WAIT_BITSET, expected, tp, nullptr,
                 FUTEX_BITSET_MATCH_ANY);
}
void futexWake(std::atomic<uint32_t>& w) {
  syscall(SYS_futex, word(w), FUTEX_WAKE, 1, nullptr, nullptr, 0);
}
#else
// No futex (not Linux): the runtime does not use the node lock there (kHasFutex); should
// anything wait anyway, it naps and re-checks, which is slow but loses no wake-up.
long futexWait(std::atomic<uint32_t>& w, uint32_t expected, Clock::time_point until) {
  Clock::time_point now = Clock::now();
  if (w.load() == expected && now < until) {
    auto nap = std::min<Clock::duration>(until - now, std::chrono::microseconds(200));
    timespec ts{0, static_cast<long>(std::chrono::nanoseconds(nap).count())};
    nanosleep(&ts, nullptr);
  }
  errno = Clock::now() >= until ? ETIMEDOUT : EAGAIN;
  return -1;
}
void futexWake(std::atomic<uint32_t>&) {}
#endif

}  // namespace

// ---- waiting ----------------------------------------------------------------------------

template <class Ready>
Status NodeLock::await(Entry& e, Ready ready, Clock::time_point deadline, CancelToken* token) {
  auto cancelled = [&] { return token && token->cancelled.load() != 0; };
  if (token) token->waitingOn.store(&e);
  Status st = Status::kGranted;
  Clock::time_point spinEnd{};
  for (uint32_t i = 0; i < opt_.spinChecks; ++i) {
    if (ready()) return st;
    if (cancelled()) return Status::kCancelled;
    if ((i + 1) % opt_.yieldEvery == 0) {
      Clock::time_point now = Clock::now();
      if (i + 1 == opt_.yieldEvery) spinEnd = now + std::chrono::microseconds(opt_.spinMicros);
      if (now >= deadline) return Status::kTimedOut;
      if (now >= spinEnd) break;
      sched_yield();
    }
  }
  for (;;) {
    // Announce, then read seq, then re-check: a change after this point bumps seq.
    e.sleeping.store(kInFutex);
    uint32_t s = e.seq.load();
    if (ready()) break;
    if (cancelled()) {
      st = Status::kCancelled;
      break;
    }
    Clock::time_point now = Clock::now();
    if (now >= deadline) {
      st = Status::kTimedOut;
      break;
    }
    Clock::time_point until = deadline;
    bool tick = false;
    if (opt_.reclaimEveryMs) {
      auto t = now + std::chrono::milliseconds(opt_.reclaimEveryMs);
      if (t < until) until = t, tick = true;
    }
    Stats::bump(stats_.sleeps);
    long r = futexWait(e.seq, s, until);
    int err = errno;
    e.sleeping.store(0);
    if (r == 0)
      Stats::bump(stats_.wokenUp);
    else if (err == ETIMEDOUT && tick)
      Stats::bump(stats_.ticks), reclaimDead();
  }
  e.sleeping.store(0);
  return st;
}

void NodeLock::wakeEntry(Entry& e) {
  uint32_t how = e.sleeping.load();
  if (how == kAwake) return;
  e.seq.fetch_add(1);
  e.wakeCalls.fetch_add(1);
  Stats::bump(stats_.wakeCalls);
  if (how == kInLoop && waker_) {
    auto entry = reinterpret_cast<const char*>(&e) - reinterpret_cast<const char*>(slots_);
    waker_(wakerContext_, static_cast<uint32_t>(entry / static_cast<ptrdiff_t>(sizeof(Slot))));
  } else {
    futexWake(e.seq);
  }
}

void NodeLock::sleepInLoop(bool write, bool untilHead) {
  Entry& e = write ? slotAt(slot_).write : slotAt(slot_).read;
  if (write && untilHead) e.wantsHead.store(1);
  e.sleeping.store(kInLoop);  // seq_cst: the caller's next poll or the changer's wake sees it
}

void NodeLock::wokenInLoop(bool write) {
  Entry& e = write ? slotAt(slot_).write : slotAt(slot_).read;
  e.sleeping.store(kAwake);
  if (write) e.wantsHead.store(0);
}

void NodeLock::cancel(CancelToken& token) {
  token.cancelled.store(1);
  Entry* e = token.waitingOn.load();
  if (e && e->sleeping.load()) {  // the flag is the change; same protocol as wakeEntry
    e->seq.fetch_add(1);
    futexWake(e->seq);
  }
}

// A reader's leave; wakes the draining writer when this leave is the one it waits for.
// A writer withdrawn mid-drain left that to the leave its drain waited for: finish it here.
void NodeLock::leaveRead() {
  uint32_t n = h_->rout.v.fetch_add(kReaderInc) + kReaderInc;
  uint64_t d = h_->drain.load();
  if (d == 0 || static_cast<uint32_t>(d >> 32) != n) return;
  uint32_t slot = drainSlot(d);
  if (!(d & kDrainWithdrawn))
    wakeEntry(slotAt(slot).write);
  else if (h_->drain.compare_exchange_strong(d, 0))
    finishWithdrawal(slot);
}

// The withdrawn writer's release: its bits, its turn (it holds wout until now).
void NodeLock::finishWithdrawal(uint32_t slot) {
  releaseBits(h_->rin.v.load() & kWriterBits);
  slotAt(slot).atTurn.store(0, std::memory_order_relaxed);
  passTurn(h_->wout.v.load() + 1);
}

// ---- readers ----------------------------------------------------------------------------

Status NodeLock::read(Clock::time_point deadline, CancelToken* token) {
  if (token && token->cancelled.load()) return Status::kCancelled;
  if (beginRead() == Step::kGranted) return Status::kGranted;
  return awaitRead(deadline, token);
}

Step NodeLock::beginRead() {
  Slot& me = slotAt(slot_);
  uint32_t v = me.rword.load();
  if (v == kCached && me.rword.compare_exchange_strong(v, kHold)) {
    Stats::bump(stats_.cachedReads);
    return Step::kGranted;
  }
  if ((v & kStateMask) == kReadCancelled &&
      me.rword.compare_exchange_strong(v, kWaiting | (v & kWriterBits))) {
    readArrival_ = h_->wout.v.load();
    readBits_ = v & kWriterBits;  // the same place in the phase again
    return pollRead();
  }
  uint32_t bits = h_->rin.v.fetch_add(kReaderInc) & kWriterBits;
  if (bits == 0) {
    me.rword.store(kHold);
    return Step::kGranted;
  }
  readArrival_ = h_->wout.v.load();
  readBits_ = bits;
  h_->readWaiters.v.fetch_add(1);
  me.rword.store(kWaiting | bits);
  return pollRead();
}

Step NodeLock::pollRead() {
  if ((h_->rin.v.load() & kWriterBits) == readBits_) return Step::kWaiting;
  grantRead();
  return Step::kGranted;
}

void NodeLock::grantRead() {
  slotAt(slot_).rword.store(kHold);  // nobody else changes a kWaiting word
  Stats::atLeast(stats_.maxReadWaitWrites, h_->wout.v.load() - readArrival_);
  h_->readWaiters.v.fetch_sub(1);
}

Status NodeLock::awaitRead(Clock::time_point deadline, CancelToken* token) {
  Slot& me = slotAt(slot_);
  uint32_t bits = readBits_;
  Status st = await(
      me.read, [&] { return (h_->rin.v.load() & kWriterBits) != bits; }, deadline, token);
  if (token) token->waitingOn.store(nullptr);
  if (st != Status::kGranted) {
    withdrawRead();
    return st;
  }
  grantRead();
  if (token && token->cancelled.load()) {
    Stats::bump(stats_.cancelAfterGrant);
    me.rword.store(kIdle);
    leaveRead();
    return Status::kCancelled;
  }
  return Status::kGranted;
}

void NodeLock::withdrawRead() {
  cancelBlockedRead(slotAt(slot_), readBits_);
  Stats::bump(stats_.cancelReaderBlocked);
}

// The entry stays counted in rin; whoever sees the phase change first gives it back.
void NodeLock::cancelBlockedRead(Slot& s, uint32_t bits) {
  uint32_t w = s.rword.load();
  if (w == (kWaiting | bits)) s.rword.compare_exchange_strong(w, kReadCancelled | bits);
  if ((h_->rin.v.load() & kWriterBits) == bits) return;  // the writer's release absorbs it
  uint32_t c = kReadCancelled | bits;
  if (s.rword.compare_exchange_strong(c, kIdle)) {
    h_->readWaiters.v.fetch_sub(1);
    leaveRead();
  }
}

void NodeLock::readRelease() {
  Slot& me = slotAt(slot_);
  uint32_t v = me.rword.load();
  if (v == kHold && opt_.biased && h_->win.v.load() == h_->wout.v.load() &&
      (!inhibited_ || Clock::now() >= noCacheUntil_) &&
      me.rword.compare_exchange_strong(v, kCached)) {
    inhibited_ = false;
    // Keep the hold, unless a writer raised its bits meanwhile (it may have scanned before).
    if ((h_->rin.v.load() & kWriterBits) == 0) return;
    uint32_t c = kCached;
    if (me.rword.compare_exchange_strong(c, kIdle)) leaveRead();  // else the writer took it
    return;
  }
  if (me.rword.exchange(kIdle) & kRevoke) {
    noCacheUntil_ = Clock::now() + std::chrono::milliseconds(2);
    inhibited_ = true;
  }
  leaveRead();
}

// ---- writers ----------------------------------------------------------------------------

Status NodeLock::write(Clock::time_point deadline, CancelToken* token) {
  if (token && token->cancelled.load()) return Status::kCancelled;
  if (beginWrite() == Step::kGranted) return Status::kGranted;
  return awaitWrite(deadline, token);
}

Step NodeLock::beginWrite() {
  Slot& me = slotAt(slot_);
  writeStage_ = WriteStage::kTurn;
  if (me.hasTicket.load()) {
    uint32_t t = me.wticket.load();
    uint64_t e = pack(t, slot_, kWriteCancelled);
    if (ringAt(t).compare_exchange_strong(e, pack(t, slot_, kQueued))) {
      myTicket_ = t;  // the cancelled ticket's place, not yet passed
      return pollWrite();
    }
  }
  uint32_t t = h_->win.v.fetch_add(1);
  me.wticket.store(t, std::memory_order_relaxed);  // read by this slot and by reclaim only
  if (!me.hasTicket.load(std::memory_order_relaxed)) me.hasTicket.store(1);
  ringAt(t).store(pack(t, slot_, kQueued));  // announce before the first check of wout
  Stats::atLeast(stats_.maxWriteWaitTurns, t - h_->wout.v.load());
  myTicket_ = t;
  return pollWrite();
}

// At its turn: raise the bits (the phase flips with every writer that enters), then drain.
void NodeLock::enterTurn() {
  // Only the turn holder touches these: ordered after the passer's wout RMW, no fence needed.
  slotAt(slot_).atTurn.store(1, std::memory_order_relaxed);
  uint32_t ph = h_->wout.phase.load(std::memory_order_relaxed) ^ kPhase;
  h_->wout.phase.store(ph, std::memory_order_relaxed);
  myBits_ = kPresent | ph;
  drainTarget_ = h_->rin.v.fetch_add(myBits_) & kStateMask;
  // The writer kHeadDepth places behind may want to know now (awaitWrite's untilHead).
  uint32_t behind = myTicket_ + kHeadDepth;
  uint64_t next = ringAt(behind).load();
  if (ticketOf(next) == behind && stateOf(next) == kQueued) {
    Entry& e = slotAt(slotOf(next)).write;
    if (e.wantsHead.load()) wakeEntry(e);
  }
  if (h_->rout.v.load() == drainTarget_) return;
  h_->drain.store(uint64_t{drainTarget_} << 32 | (slot_ + 1));
  revokeCached();
}

Step NodeLock::pollWrite() {
  if (writeStage_ == WriteStage::kTurn) {
    if (h_->wout.v.load() != myTicket_) return Step::kWaiting;
    enterTurn();
    writeStage_ = WriteStage::kDrain;
  }
  if (h_->rout.v.load() != drainTarget_) return Step::kWaiting;
  if (h_->drain.load() != 0) h_->drain.store(0);
  writeStage_ = WriteStage::kNone;
  return Step::kGranted;
}

uint32_t NodeLock::writersAhead() const {
  return writeStage_ == WriteStage::kTurn ? myTicket_ - h_->wout.v.load() : 0;
}

Status NodeLock::awaitWrite(Clock::time_point deadline, CancelToken* token, bool untilHead) {
  Slot& me = slotAt(slot_);
  Status st = Status::kGranted;
  if (writeStage_ == WriteStage::kTurn) {
    uint32_t t = myTicket_;
    // wantsHead before the first check: a turn taken after it wakes this entry.
    if (untilHead) me.write.wantsHead.store(1);
    st = await(
        me.write,
        [&] {
          uint32_t ahead = t - h_->wout.v.load();
          return ahead == 0 || (untilHead && ahead <= kHeadDepth);
        },
        deadline, token);
    if (untilHead) me.write.wantsHead.store(0);
    if (st == Status::kGranted && h_->wout.v.load() != t) {
      if (token) token->waitingOn.store(nullptr);
      return Status::kHead;  // still pending, in the same place
    }
    if (st == Status::kGranted) enterTurn(), writeStage_ = WriteStage::kDrain;
  }
  if (st == Status::kGranted && writeStage_ == WriteStage::kDrain) {
    uint32_t target = drainTarget_;
    st = await(
        me.write, [&] { return h_->rout.v.load() == target; }, deadline, token);
  }
  if (token) token->waitingOn.store(nullptr);
  if (st != Status::kGranted) {
    withdrawWrite();
    return st;
  }
  if (h_->drain.load() != 0) h_->drain.store(0);
  writeStage_ = WriteStage::kNone;
  if (token && token->cancelled.load()) {
    Stats::bump(stats_.cancelAfterGrant);
    writeRelease();
    return Status::kCancelled;
  }
  return Status::kGranted;
}

void NodeLock::withdrawWrite() {
  if (writeStage_ == WriteStage::kTurn) cancelQueuedWrite(myTicket_, slot_);
  if (writeStage_ == WriteStage::kDrain) withdrawDrain();
  writeStage_ = WriteStage::kNone;
}

// Withdrawn mid-drain: the call returns now, but the bits stay up until the readers ahead
// have left (the last of them finishes the release). Dropping them now would let the next
// writer raise the very bits that readers blocked one phase ago still wait to see change
// (model/node_lock.pml found that ABA).
void NodeLock::withdrawDrain() {
  Stats::bump(stats_.cancelWriterAtTurn);
  uint64_t w = uint64_t{drainTarget_} << 32 | kDrainWithdrawn | (slot_ + 1);
  h_->drain.store(w);
  if (h_->rout.v.load() == drainTarget_ && h_->drain.compare_exchange_strong(w, 0))
    finishWithdrawal(slot_);
}

}  // namespace mpilock::node
