// What the progress thread does besides answering commands: samples of the lock state,
// the watch over cached read holds (lock/read_bias.h), and progress for the counters
// this rank hosts while it is otherwise idle.
#include <algorithm>

#include "runtime/progress_thread.h"

namespace mpilock {

void ProgressThread::sampleCounters(int32_t id, std::chrono::microseconds interval) {
  post([this, id, interval] {
    Entry* e = entry(id);
    if (e == nullptr) return;
    e->sampleEvery = interval;
    e->nextSample = std::chrono::steady_clock::now();
  });
}

std::chrono::microseconds ProgressThread::sampleDue(std::chrono::steady_clock::time_point now) {
  using std::chrono::microseconds;
  auto next = microseconds::max();
  std::lock_guard<std::mutex> lock(mpi_);
  for (auto& [id, entry] : windows_) {
    if (entry.sampleEvery.count() == 0) continue;
    if (now >= entry.nextSample) {
      LockWindow& w = *entry.window;
      Completion c{Completion::Type::kCounters};
      c.window = id;
      if (const auto& node = w.nodeLevel()) {
        NodeLevel::Sample s = node->sample();  // the node lock serves it: its words
        c.state[0] = s.readers, c.state[1] = s.writer, c.state[2] = s.queued, c.state[3] = s.phase;
      } else {
        int64_t counters[kCounterCount];
        WindowAtomics(w.win(), w.master(), w.block()).loadAll(counters);  // one round trip
        LockState s = decodeState(counters);
        c.state[0] = s.readers;
        c.state[1] = s.writer;
        c.state[2] = s.writersQueued;
        c.state[3] = s.phase;
      }
      outbox_.push_back(std::move(c));
      entry.nextSample = now + entry.sampleEvery;
    }
    next = std::min(next, std::chrono::duration_cast<microseconds>(entry.nextSample - now));
  }
  return next;
}

bool ProgressThread::watchDue(ReadBias::Clock::time_point now) {
  if (now - lastWatch_ < kWatchInterval) return false;
  lastWatch_ = now;
  watching_ = false;  // until a window says it still caches a read hold
  return true;
}

bool ProgressThread::hostsCounters() const {
  std::lock_guard<std::mutex> lock(mpi_);
  for (const auto& [id, entry] : windows_) {
    if (entry.window->master() == entry.window->rank()) return true;  // a table's: all or none
  }
  return slots_.hostsAny();
}

// Lets MPI progress one-sided requests that target this rank (emulated atomics).
void ProgressThread::idleProgress() {
  std::lock_guard<std::mutex> lock(mpi_);
  for (const auto& [id, entry] : windows_) {
    // Once per communicator: a table's entries share entry 0's.
    if (entry.table != id || entry.window->master() != entry.window->rank()) continue;
    int flag = 0;
    MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, entry.window->comm(), &flag, MPI_STATUS_IGNORE);
  }
  slots_.progressHosted();
}

}  // namespace mpilock
