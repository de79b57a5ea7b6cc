// The lock fast path. A window served by the node lock (lock/node_level.h) goes there, with
// no MPI call and no MPI mutex. Otherwise the JavaScript thread begins, tries and ends lock
// requests itself under the MPI mutex when MPI is SERIALIZED and the mutex is free (one remote
// atomic, no thread hop); otherwise the progress thread does it and reports the outcome.
#include <thread>

#include "runtime/progress_thread.h"

namespace mpilock {

ProgressThread::Pending ProgressThread::beginLock(int32_t id, LockKind kind, uint32_t seq,
                                                  bool jsPolls) {
  if (auto node = nodeLevel(id)) return node->begin(kind, seq, jsPolls);
  std::unique_lock<std::mutex> lock(mpi_, std::defer_lock);
  if (lockQuickly(lock)) {
    if (LockWindow* w = lockWindow(id)) {
      bool granted = w->begin(kind, seq, jsPolls) == LockWindow::Begin::kGranted;
      lock.unlock();
      if (granted) return Pending::kGranted;
      if (jsPolls) return Pending::kJsPolls;
      post([] {});  // wake the thread to poll
      return Pending::kThreadPolls;
    }
  }
  // Contended MPI mutex or FUNNELED: the thread begins it and reports the grant.
  post([this, id, kind, seq] {
    std::lock_guard<std::mutex> lock(mpi_);
    LockWindow* w = lockWindow(id);
    if (w != nullptr && w->begin(kind, seq) == LockWindow::Begin::kGranted) {
      report(Completion::Type::kGranted, id, kind, seq);
    }
  });
  return Pending::kThreadPolls;
}

bool ProgressThread::lockQuickly(std::unique_lock<std::mutex>& lock) {
  if (!serialized_) return false;
  for (int attempt = 0; attempt < 64 && !lock.try_lock(); ++attempt) std::this_thread::yield();
  return lock.owns_lock();
}

void ProgressThread::report(Completion::Type type, int32_t window, LockKind kind, uint32_t seq) {
  Completion c{type};
  c.window = window;
  c.lockKind = kind;
  c.seq = seq;
  outbox_.push_back(std::move(c));
}

ProgressThread::Pending ProgressThread::tryLock(int32_t id, LockKind kind, uint32_t seq) {
  if (auto node = nodeLevel(id)) return node->tryBegin(kind, seq);
  std::unique_lock<std::mutex> lock(mpi_, std::defer_lock);
  if (lockQuickly(lock)) {
    LockWindow* w = lockWindow(id);
    if (w == nullptr) return Pending::kBusy;
    switch (w->tryBegin(kind, seq)) {
      case LockWindow::Try::kGranted:
        return Pending::kGranted;
      case LockWindow::Try::kBusy:
        return Pending::kBusy;
      case LockWindow::Try::kWithdrawing:
        lock.unlock();
        post([] {});  // wake the thread to complete the withdrawal
        return Pending::kWithdrawing;
    }
  }
  // The same on the thread; the answer comes as a completion (declined: kWithdrawn).
  post([this, id, kind, seq] {
    std::lock_guard<std::mutex> guard(mpi_);
    LockWindow* w = lockWindow(id);
    auto answer = w == nullptr ? LockWindow::Try::kBusy : w->tryBegin(kind, seq);
    if (answer == LockWindow::Try::kGranted) report(Completion::Type::kGranted, id, kind, seq);
    if (answer == LockWindow::Try::kBusy) report(Completion::Type::kWithdrawn, id, kind, seq);
  });
  return Pending::kThreadPolls;
}

ProgressThread::Pending ProgressThread::pollLock(int32_t id, LockKind kind, uint32_t seq,
                                                 bool handOver) {
  if (auto node = nodeLevel(id)) return node->poll(kind, seq, handOver);
  std::unique_lock<std::mutex> lock(mpi_, std::defer_lock);
  if (handOver) {
    lock.lock();
  } else if (!lock.try_lock()) {
    return Pending::kJsPolls;
  }
  LockWindow* w = lockWindow(id);
  if (w == nullptr) return Pending::kJsPolls;
  if (w->pollFromJs(kind, seq, handOver)) return Pending::kGranted;
  if (!handOver) return Pending::kJsPolls;
  lock.unlock();
  post([] {});
  return Pending::kThreadPolls;
}

void ProgressThread::endLock(int32_t id, LockKind kind, bool downgrade) {
  if (auto node = nodeLevel(id)) return node->end(kind, downgrade);
  auto end = [this, id, kind, downgrade] {
    LockWindow* w = lockWindow(id);
    if (w == nullptr) return false;
    kind == LockKind::kRead ? w->endRead() : w->endWrite(downgrade);
    return w->readCached();
  };
  if (serialized_) {
    std::unique_lock<std::mutex> lock(mpi_);
    // A cached read must be watched: wake the thread if it sleeps without a deadline.
    if (end() && asleep_.load()) {
      lock.unlock();
      post([] {});
    }
  } else {
    post([this, end] {
      std::lock_guard<std::mutex> lock(mpi_);
      end();
    });
  }
}

void ProgressThread::withdrawLock(int32_t id, LockKind kind, uint32_t seq) {
  if (auto node = nodeLevel(id)) return node->withdraw(kind, seq);
  post([this, id, kind, seq] {
    std::lock_guard<std::mutex> lock(mpi_);
    LockWindow* w = lockWindow(id);
    if (w != nullptr && w->withdraw(kind, seq)) report(Completion::Type::kWithdrawn, id, kind, seq);
  });
}

// Reports what the thread's polls of `window` decided.
void ProgressThread::pollLocks(int32_t id, LockWindow& window) {
  for (LockKind kind : {LockKind::kRead, LockKind::kWrite}) {
    LockWindow::PollResult r = window.poll(kind);
    if (!r.granted && !r.withdrawn) continue;
    report(r.granted ? Completion::Type::kGranted : Completion::Type::kWithdrawn, id, kind, r.seq);
    if (r.restarted && r.restartGranted) {
      report(Completion::Type::kGranted, id, kind, r.restartSeq);
    }
  }
}

}  // namespace mpilock
