// The progress thread's commands for slot windows (toolkit/slot_window.h): making and
// freeing them (collective, in the creation queue with the other windows), and
// fetch-and-add, done on the JavaScript thread when the MPI mutex is free (as the lock's
// fast path), else on the thread, which reports kFetched.
#include "runtime/progress_thread.h"

namespace mpilock {

// On the communicator of lock window `parent` (the controller's own duplicate).
void ProgressThread::createSlots(uint32_t token, int32_t id, int root, int32_t parent, int count) {
  post([this, token, id, root, parent, count] {
    LockWindow* w = lockWindow(parent);
    if (w == nullptr) return gone(token, parent, "controller's window");
    queueBlocking(creationOps_,
                  std::make_unique<CreateSlotsOp>(token, id, w->comm(), root, count, slots_));
  });
}

void ProgressThread::freeSlots(uint32_t token, int32_t id) {
  post([this, token, id] {
    if (slots_.find(id) == nullptr) return gone(token, id, "slot window");
    queueBlocking(creationOps_, std::make_unique<FreeSlotsOp>(token, id, slots_));
  });
}

bool ProgressThread::fetchAdd(uint32_t token, int32_t id, int slot, int64_t delta, int64_t* old) {
  std::unique_lock<std::mutex> lock(mpi_, std::defer_lock);
  if (lockQuickly(lock)) {
    if (SlotWindow* w = slots_.find(id)) {
      *old = w->fetchAdd(slot, delta);
      return true;
    }
  }
  post([this, token, id, slot, delta] {
    std::lock_guard<std::mutex> guard(mpi_);
    SlotWindow* w = slots_.find(id);
    if (w == nullptr) return gone(token, id, "slot window");
    Completion c{Completion::Type::kFetched};
    c.token = token;
    c.window = id;
    c.low = w->fetchAdd(slot, delta);
    outbox_.push_back(std::move(c));
  });
  return false;
}

// At shutdown: the slot windows JavaScript did not free, freed collectively in id order.
void ProgressThread::freeSlotsLeft() {
  for (int32_t id : slots_.ids()) {
    queueBlocking(creationOps_, std::make_unique<FreeSlotsOp>(0, id, slots_));
  }
}

}  // namespace mpilock
