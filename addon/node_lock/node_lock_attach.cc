// Node lock: attaching (init-once), dead-slot reclaim, detach, snapshot.
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "node_lock.h"
#include "node_lock_internal.h"

namespace mpilock::node {

using namespace detail;

bool detail::processGone(uint32_t pid) {
  if (kill(static_cast<pid_t>(pid), 0) != 0) return errno == ESRCH;
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%u/stat", pid);
  FILE* f = std::fopen(path, "r");
  if (!f) return false;
  char buf[512];
  size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = 0;
  const char* p = std::strrchr(buf, ')');
  return p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
}

size_t regionBytes(uint32_t maxSlots) {
  return align64(sizeof(Header)) + sizeof(RingEntry) * maxSlots + sizeof(Slot) * maxSlots;
}

NodeLock::NodeLock(void* region, size_t bytes, uint32_t maxSlots, uint32_t slot, Options options)
    : maxSlots_(maxSlots), slot_(slot), opt_(options) {
  if (maxSlots == 0 || maxSlots > 0xffff || slot >= maxSlots)
    throw std::runtime_error("node lock: slot out of range");
  if (!region || reinterpret_cast<uintptr_t>(region) % 64 != 0 || bytes < regionBytes(maxSlots))
    throw std::runtime_error("node lock: region too small or not 64-byte aligned");
  if (opt_.yieldEvery == 0) opt_.yieldEvery = 1;
  auto* base = static_cast<char*>(region);
  h_ = reinterpret_cast<Header*>(base);
  ring_ = reinterpret_cast<RingEntry*>(base + align64(sizeof(Header)));
  slots_ = reinterpret_cast<Slot*>(base + align64(sizeof(Header)) + sizeof(RingEntry) * maxSlots);
  uint32_t expected = 0;
  if (h_->init.compare_exchange_strong(expected, 1)) {
    h_->magic = kMagic;
    h_->maxSlots = maxSlots;
    h_->init.store(2);
  } else {
    auto giveUp = Clock::now() + std::chrono::seconds(10);
    while (h_->init.load() != 2) {
      if (Clock::now() > giveUp) throw std::runtime_error("node lock: region never initialized");
      sched_yield();
    }
  }
  if (h_->magic != kMagic || h_->maxSlots != maxSlots)
    throw std::runtime_error("node lock: region holds another geometry");
  Slot& me = slotAt(slot_);
  uint32_t old = me.pid.load();
  uint32_t self = static_cast<uint32_t>(getpid());
  if (old != 0 && old != self) {
    if (!processGone(old)) throw std::runtime_error("node lock: slot in use by a live process");
    if (me.pid.compare_exchange_strong(old, 0)) reclaimSlot(slot_);
  }
  me.pid.store(self);
}

// ---- dead processes ---------------------------------------------------------------------

size_t NodeLock::reclaimDead() {
  size_t n = 0;
  for (uint32_t i = 0; i < maxSlots_; ++i) {
    if (i == slot_) continue;
    uint32_t pid = slotAt(i).pid.load();
    if (pid == 0 || !processGone(pid)) continue;
    if (!slotAt(i).pid.compare_exchange_strong(pid, 0)) continue;
    reclaimSlot(i);
    Stats::bump(stats_.reclaimed);
    ++n;
  }
  return n;
}

// What the dead owner would have done with what it waited for: withdraw a waiting read or
// write, give a cached (unused) read hold back. A hold it had is never handed on: what the
// lock protects may be half-written (the job ends through MPI, as with the global lock).
void NodeLock::reclaimSlot(uint32_t i) {
  Slot& s = slotAt(i);
  uint32_t v = s.rword.load();
  uint32_t state = v & kStateMask, bits = v & kWriterBits;
  if (state == kWaiting || state == kReadCancelled) {
    cancelBlockedRead(s, bits);
  } else if (state == kCached) {
    if (s.rword.compare_exchange_strong(v, kIdle)) leaveRead();
  }
  if (!s.hasTicket.load()) return;
  uint32_t t = s.wticket.load();
  uint64_t e = ringAt(t).load();
  if (ticketOf(e) != t || slotOf(e) != i) return;
  if (s.atTurn.load() && h_->wout.v.load() == t) {  // draining: withdraw; holding: keep
    uint64_t d = h_->drain.load();
    if (d == 0 || drainSlot(d) != i || (d & kDrainWithdrawn)) return;
    uint64_t w = d | kDrainWithdrawn;  // as a writer withdrawn mid-drain (withdrawDrain)
    if (!h_->drain.compare_exchange_strong(d, w)) return;
    if (h_->rout.v.load() == static_cast<uint32_t>(w >> 32) &&
        h_->drain.compare_exchange_strong(w, 0))
      finishWithdrawal(i);
  } else if (stateOf(e) == kQueued || stateOf(e) == kWriteCancelled) {
    cancelQueuedWrite(t, i);
  }
}

void NodeLock::detach() {
  Slot& me = slotAt(slot_);
  uint32_t c = kCached;
  if (me.rword.compare_exchange_strong(c, kIdle)) leaveRead();
  me.pid.store(0);
}

Snapshot NodeLock::snapshot() const {
  uint32_t rin = h_->rin.v.load(), rout = h_->rout.v.load();
  Snapshot s;
  s.readers = ((rin & kStateMask) - rout) / kReaderInc;
  s.writerIn = (rin & kPresent) != 0;
  uint32_t wout = h_->wout.v.load();
  s.writersQueued = h_->win.v.load() - wout;
  s.cachedHolds = 0;
  for (uint32_t i = 0; i < maxSlots_; ++i) s.cachedHolds += slots_[i].rword.load() == kCached;
  uint64_t e = ringAt(wout).load();
  s.writerSlot = s.writerIn && ticketOf(e) == wout ? static_cast<int32_t>(slotOf(e)) : -1;
  s.phase = h_->wout.phase.load(std::memory_order_relaxed);
  return s;
}

}  // namespace mpilock::node
