// Node lock: what passes the lock on (a writer's release, the turn handed to the next ticket,
// readers woken at the end of a writer phase, cached read holds taken back).
#include "node_lock.h"
#include "node_lock_internal.h"

namespace mpilock::node {

using namespace detail;

// Mark the ticket cancelled; if its turn came meanwhile, pass it on (a CAS with the passer).
void NodeLock::cancelQueuedWrite(uint32_t t, uint32_t slot) {
  uint64_t q = pack(t, slot, kQueued);
  ringAt(t).compare_exchange_strong(q, pack(t, slot, kWriteCancelled));
  uint64_t c = pack(t, slot, kWriteCancelled);
  if (h_->wout.v.load() == t && ringAt(t).compare_exchange_strong(c, pack(t, slot, kPassed))) {
    Stats::bump(stats_.cancelWriterAtTurn);
    passTurn(t + 1);
    return;
  }
  Stats::bump(stats_.cancelWriterQueued);
}

void NodeLock::writeRelease() {
  releaseBits(myBits_);
  slotAt(slot_).atTurn.store(0, std::memory_order_relaxed);
  passTurn(myTicket_ + 1);
}

// Clear the writer bits; wake the readers they blocked, give back the cancelled ones.
void NodeLock::releaseBits(uint32_t bits) {
  h_->rin.v.fetch_sub(bits);
  if (h_->readWaiters.v.load() == 0) return;
  for (uint32_t i = 0; i < maxSlots_; ++i) {
    Slot& s = slotAt(i);
    uint32_t v = s.rword.load();
    if (v == (kWaiting | bits)) {
      wakeEntry(s.read);
    } else if (v == (kReadCancelled | bits) && s.rword.compare_exchange_strong(v, kIdle)) {
      h_->readWaiters.v.fetch_sub(1);
      leaveRead();
    }
  }
}

// Serve ticket `next`: wake its owner if it waits; skip it if it was cancelled.
void NodeLock::passTurn(uint32_t next) {
  for (;; ++next) {
    h_->wout.v.fetch_add(1);  // == next now: only the turn holder moves wout
    uint64_t e = ringAt(next).load();
    if (ticketOf(e) != next) return;  // not announced yet: it will see wout itself
    if (stateOf(e) == kQueued) {
      wakeEntry(slotAt(slotOf(e)).write);
      return;
    }
    if (stateOf(e) != kWriteCancelled ||
        !ringAt(next).compare_exchange_strong(e, pack(next, slotOf(e), kPassed)))
      return;  // its owner took the turn back (re-adopted, or passed it on itself)
  }
}

// A draining writer takes idle cached holds back and marks held ones for release.
void NodeLock::revokeCached() {
  for (uint32_t i = 0; i < maxSlots_; ++i) {
    std::atomic<uint32_t>& w = slotAt(i).rword;
    uint32_t v = w.load();
    while (v == kCached || v == kHold) {
      if (w.compare_exchange_weak(v, v == kCached ? kIdle : (kHold | kRevoke))) {
        if (v == kCached) {
          Stats::bump(stats_.stolenHolds);
          leaveRead();
        }
        break;
      }
    }
  }
}

}  // namespace mpilock::node
