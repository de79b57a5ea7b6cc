// The progress thread: its command queue and its loop (poll, deliver, sleep), and the
// way out (shutdown, abort).
#include "runtime/progress_thread.h"

#include <algorithm>
#include <cstdlib>

#include "collectives/window_ops.h"
#include "runtime/osc_backing_dir.h"

namespace mpilock {

ProgressThread& ProgressThread::instance() {
  static ProgressThread* thread = new ProgressThread();  // never destroyed: exit hooks use it
  return *thread;
}

void ProgressThread::start(Deliver deliver, ProgressOptions options) {
  if (thread_.joinable()) return;
  deliver_ = std::move(deliver);
  options_ = options;
  // Here, on the caller's thread, before any other thread of ours reads the environment.
  oscBackingDir_ = prepareOscBackingDirectory();
  thread_ = std::thread([this] { run(); });
}

void ProgressThread::post(Command command) {
  {
    std::lock_guard<std::mutex> lock(queueMutex_);
    commands_.push_back(std::move(command));
    kicked_ = true;
  }
  wake_.notify_one();
}

ProgressThread::Entry* ProgressThread::entry(int32_t id) {
  auto it = windows_.find(id);
  return it == windows_.end() || !it->second.window ? nullptr : &it->second;
}

LockWindow* ProgressThread::lockWindow(int32_t id) {
  Entry* e = entry(id);
  return e == nullptr ? nullptr : e->window.get();
}

// One pass over everything in flight. Collectives advance head-first per communicator.
bool ProgressThread::pollOnce() {
  std::lock_guard<std::mutex> lock(mpi_);
  bool progressed = false;
  auto advance = [&](std::deque<std::unique_ptr<CollectiveOp>>& ops) {
    while (!ops.empty() && ops.front()->step()) {
      outbox_.push_back(ops.front()->result());
      ops.pop_front();
      progressed = true;
    }
  };
  advance(creationOps_);
  auto now = ReadBias::Clock::now();
  bool watch = watchDue(now);
  for (auto it = windows_.begin(); it != windows_.end();) {
    Entry& entry = it->second;
    size_t before = outbox_.size();
    if (entry.window->busy()) pollLocks(it->first, *entry.window);
    if (watch) watching_ |= entry.window->watchCached(now);
    advance(entry.ops);
    progressed |= outbox_.size() != before;
    bool freed = !outbox_.empty() && before != outbox_.size() &&
                 outbox_.back().type == Completion::Type::kWindowFreed &&
                 outbox_.back().window == it->first;
    if (!freed) {
      ++it;
      continue;
    }
    // A table goes as a whole: its entries have the ids after entry 0's.
    int32_t first = it->first, last = it->first + entry.count - 1;
    {
      std::lock_guard<std::mutex> g(nodeMutex_);
      nodeLevels_.erase(nodeLevels_.lower_bound(first), nodeLevels_.upper_bound(last));
    }
    it = windows_.erase(it, windows_.upper_bound(last));
  }
  return progressed;
}

bool ProgressThread::active() const {
  std::lock_guard<std::mutex> lock(mpi_);
  if (!creationOps_.empty()) return true;
  for (const auto& [id, entry] : windows_) {
    if (!entry.ops.empty() || entry.window->busy()) return true;
  }
  return false;
}

std::shared_ptr<NodeLevel> ProgressThread::nodeLevel(int32_t id) {
  std::lock_guard<std::mutex> g(nodeMutex_);
  auto it = nodeLevels_.find(id);
  return it == nodeLevels_.end() ? nullptr : it->second;
}

void ProgressThread::deliverNow(Completion::Type type, int32_t window, LockKind kind,
                                uint32_t seq) {
  CompletionBatch batch;
  batch.emplace_back(type);
  batch.back().window = window;
  batch.back().lockKind = kind;
  batch.back().seq = seq;
  if (deliver_) deliver_(std::move(batch));
}

void ProgressThread::deliver() {
  if (outbox_.empty() || !deliver_) return;
  CompletionBatch batch;
  batch.swap(outbox_);
  deliver_(std::move(batch));
}

void ProgressThread::run() {
  {
    std::lock_guard<std::mutex> lock(mpi_);
    initialize();
  }
  deliver();
  auto backoff = options_.minBackoff;
  bool shuttingDown = false;
  for (;;) {
    std::deque<Command> commands;
    bool stop;
    int abortCode;
    {
      std::lock_guard<std::mutex> lock(queueMutex_);
      commands.swap(commands_);
      kicked_ = false;
      stop = stopping_;
      abortCode = abortCode_;
    }
    for (auto& command : commands) command();
    if (stop && abortCode >= 0) {
      // A collective that cannot complete (a close() that timed out) would hang the
      // window free and MPI_Finalize: end the job instead. MPI_Abort does not return.
      std::lock_guard<std::mutex> lock(mpi_);
      MPI_Abort(MPI_COMM_WORLD, abortCode);
      std::_Exit(abortCode);
    }
    if (stop) {
      // Release what is held, withdraw what waits, and free every window collectively
      // in creation order (the same on every rank).
      std::lock_guard<std::mutex> lock(mpi_);
      shuttingDown = true;
      for (auto& [id, entry] : windows_) {
        entry.window->releaseEverything();
        if (entry.table != id) continue;  // freed with its table
        bool freeing = false;
        for (auto& op : entry.ops) freeing |= dynamic_cast<FreeWindowOp*>(op.get()) != nullptr;
        if (!freeing) {
          queueBlocking(entry.ops, std::make_unique<FreeWindowOp>(0, id, locksOf(id), [] {}));
        }
      }
      freeSlotsLeft();
    }
    bool progressed = pollOnce() || !commands.empty();
    auto untilSample = shuttingDown ? std::chrono::microseconds::max()
                                    : sampleDue(std::chrono::steady_clock::now());
    if (!shuttingDown) deliver();
    bool busy = active();
    if (shuttingDown && !busy) {
      std::lock_guard<std::mutex> lock(mpi_);
      if (windows_.empty() && slots_.empty()) break;
    }
    backoff = progressed ? options_.minBackoff : std::min(backoff * 2, options_.maxBackoff);
    bool hosting = !busy && options_.idleProgress.count() > 0 && hostsCounters();
    std::unique_lock<std::mutex> lock(queueMutex_);
    if (kicked_ || stopping_ != stop) continue;
    if (busy) {
      wake_.wait_for(lock, std::min(backoff, untilSample));
    } else if (watching_) {
      wake_.wait_for(lock, std::min<std::chrono::microseconds>(kWatchInterval, untilSample));
    } else if (untilSample != std::chrono::microseconds::max()) {
      wake_.wait_for(lock, std::min(untilSample, hosting ? options_.idleProgress : untilSample));
    } else if (hosting) {
      wake_.wait_for(lock, options_.idleProgress);
      if (!kicked_) {
        lock.unlock();
        idleProgress();
      }
    } else {
      asleep_ = true;
      wake_.wait(lock, [this] { return kicked_ || stopping_; });
      asleep_ = false;
    }
  }
  std::lock_guard<std::mutex> lock(mpi_);
  finalize();
}

void ProgressThread::abort(int code) {
  {
    std::lock_guard<std::mutex> lock(queueMutex_);
    abortCode_ = code < 0 ? 1 : code;
  }
  shutdown();
}

void ProgressThread::shutdown() {
  std::lock_guard<std::mutex> guard(shutdownMutex_);
  if (shutDown_ || !thread_.joinable()) return;
  shutDown_ = true;
  {
    std::lock_guard<std::mutex> lock(queueMutex_);
    stopping_ = true;
    kicked_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

}  // namespace mpilock
