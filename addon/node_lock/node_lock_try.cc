// Node lock: requests that do not wait (tryRead, tryWrite) and the write-to-read downgrade.
#include "node_lock.h"
#include "node_lock_internal.h"

namespace mpilock::node {

using namespace detail;

bool NodeLock::tryRead() {
  Slot& me = slotAt(slot_);
  uint32_t v = me.rword.load();
  if (v == kCached && me.rword.compare_exchange_strong(v, kHold)) {
    Stats::bump(stats_.cachedReads);
    return true;
  }
  // A cancelled entry of this slot still counts in the phase it waited on: not free now.
  if (v != kIdle || (h_->rin.v.load() & kWriterBits) != 0) return false;
  uint32_t bits = h_->rin.v.fetch_add(kReaderInc) & kWriterBits;
  if (bits == 0) {
    me.rword.store(kHold);
    return true;
  }
  // A writer raised its bits in between: this entry is now a blocked reader; withdraw it as
  // one (the writer's release gives it back), as a timed-out read would.
  readArrival_ = h_->wout.v.load();
  readBits_ = bits;
  h_->readWaiters.v.fetch_add(1);
  me.rword.store(kWaiting | bits);
  if (pollRead() == Step::kGranted) return true;
  withdrawRead();
  return false;
}

bool NodeLock::tryWrite() {
  if (h_->win.v.load() != h_->wout.v.load()) return false;  // a writer holds or is queued
  uint32_t rin = h_->rin.v.load(), rout = h_->rout.v.load();
  if ((rin & kWriterBits) != 0) return false;
  // Readers in: free only when every one of them is an idle cached hold (taken back below).
  uint32_t readers = ((rin & kStateMask) - rout) / kReaderInc, cached = 0;
  for (uint32_t i = 0; i < maxSlots_ && cached < readers; ++i)
    cached += slotAt(i).rword.load() == kCached ? 1 : 0;
  if (cached < readers) return false;
  if (beginWrite() == Step::kGranted) return true;
  withdrawWrite();  // someone came in between: back out as a timed-out write would
  return false;
}

void NodeLock::writeDowngrade() {
  Slot& me = slotAt(slot_);
  uint32_t v = me.rword.load();
  if ((v & kStateMask) == kReadCancelled && me.rword.compare_exchange_strong(v, kHold)) {
    h_->readWaiters.v.fetch_sub(1);  // this slot's withdrawn entry, still counted: adopt it
  } else {
    h_->rin.v.fetch_add(kReaderInc);  // beside this writer's bits: no writer can come between
    me.rword.store(kHold);
  }
  writeRelease();
}

}  // namespace mpilock::node
