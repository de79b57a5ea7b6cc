#include "progress_thread.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>

#include "window_ops.h"

namespace mpilock {

static constexpr const char* kWindow = "controller's window";

ProgressThread& ProgressThread::instance() {
  static ProgressThread* thread = new ProgressThread();  // never destroyed: exit hooks use it
  return *thread;
}

void ProgressThread::start(Deliver deliver, ProgressOptions options) {
  if (thread_.joinable()) return;
  deliver_ = std::move(deliver);
  options_ = options;
  thread_ = std::thread([this] { run(); });
}

void ProgressThread::initialize() {
  // Safety net for MPI builds whose plugins do not link libmpi themselves.
  for (const char* lib : {"libmpi.so.40", "libmpi.so.12", "libmpi.so"}) {
    if (dlopen(lib, RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD)) break;
  }
  Completion c{Completion::Type::kInit};
  int initialized = 0, provided = MPI_THREAD_SINGLE;
  MPI_Initialized(&initialized);
  if (initialized) {
    MPI_Query_thread(&provided);
  } else {
    MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided);
    weInitialized_ = true;
  }
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  serialized_ = provided >= MPI_THREAD_SERIALIZED;
  char version[MPI_MAX_LIBRARY_VERSION_STRING];
  int len = 0;
  MPI_Get_library_version(version, &len);
  c.rank = rank_;
  c.size = size_;
  c.threadLevel = provided;
  c.text.assign(version, len);
  outbox_.push_back(std::move(c));
}

void ProgressThread::finalize() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (weInitialized_ && !finalized) MPI_Finalize();
}

void ProgressThread::post(Command command) {
  {
    std::lock_guard<std::mutex> lock(queueMutex_);
    commands_.push_back(std::move(command));
    kicked_ = true;
  }
  wake_.notify_one();
}

void ProgressThread::createWindow(uint32_t token, int32_t id, int master, int32_t comm) {
  post([this, token, id, master, comm] {
    MPI_Comm parent = comms_.find(comm);
    if (parent == MPI_COMM_NULL) return gone(token, comm, "communicator");
    queueBlocking(creationOps_,
                  std::make_unique<CreateWindowOp>(token, id, parent, master, options_.biasedReads,
                                                   [this, id](std::unique_ptr<LockWindow> window) {
                                                     windows_[id].window = std::move(window);
                                                   }));
  });
}

void ProgressThread::splitComm(uint32_t token, int32_t parentId, int32_t id, SplitCommOp::How how,
                               int color, int key, bool valid) {
  post([this, token, parentId, id, how, color, key, valid] {
    MPI_Comm parent = comms_.find(parentId);
    if (parent == MPI_COMM_NULL) return gone(token, parentId, "communicator");
    queueBlocking(creationOps_, std::make_unique<SplitCommOp>(
                                    token, id, parent, how, color, key, valid,
                                    [this, id](MPI_Comm made) { comms_.adopt(id, made); }));
  });
}

void ProgressThread::queueBlocking(std::deque<std::unique_ptr<CollectiveOp>>& ops,
                                   std::unique_ptr<CollectiveOp> op) {
  op->takeTurns(turns_);
  ops.push_back(std::move(op));
}

void ProgressThread::freeComm(uint32_t token, int32_t id) {
  post([this, token, id] {
    creationOps_.push_back(std::make_unique<FreeCommOp>(token, id, comms_));
  });
}

void ProgressThread::freeWindow(uint32_t token, int32_t id) {
  post([this, token, id] {
    auto it = windows_.find(id);
    if (it == windows_.end()) {
      Completion c{Completion::Type::kWindowFreed};
      c.token = token;
      c.window = id;
      outbox_.push_back(std::move(c));
      return;
    }
    queueBlocking(it->second.ops,
                  std::make_unique<FreeWindowOp>(token, id, *it->second.window, [] {}));
  });
}

// A collective asked for on a window or communicator that was freed: report it, so
// nobody waits forever (JavaScript checks communicators first; this is the safety net).
void ProgressThread::gone(uint32_t token, int32_t id, const char* what) {
  Completion c{Completion::Type::kError};
  c.token = token;
  c.window = id;
  c.text = std::string("the ") + what + " was freed before this collective started";
  outbox_.push_back(std::move(c));
}

void ProgressThread::barrier(uint32_t token, int32_t id) {
  post([this, token, id] {
    auto it = windows_.find(id);
    if (it == windows_.end()) return gone(token, id, kWindow);
    it->second.ops.push_back(std::make_unique<BarrierOp>(token, id, it->second.window->comm()));
  });
}

void ProgressThread::agree(uint32_t token, int32_t id, int64_t value) {
  post([this, token, id, value] {
    auto it = windows_.find(id);
    if (it == windows_.end()) return gone(token, id, kWindow);
    it->second.ops.push_back(
        std::make_unique<AgreeOp>(token, id, it->second.window->comm(), value));
  });
}

void ProgressThread::broadcast(uint32_t token, int32_t id, int root, const uint8_t* data,
                               size_t size, size_t chunk) {
  post([this, token, id, root, data, size, chunk] {
    auto it = windows_.find(id);
    if (it == windows_.end()) return gone(token, id, kWindow);
    it->second.ops.push_back(std::make_unique<BroadcastOp>(token, id, it->second.window->comm(),
                                                           root, data, size, chunk));
  });
}

ProgressThread::Pending ProgressThread::beginLock(int32_t id, LockKind kind, uint32_t seq,
                                                  bool jsPolls) {
  std::unique_lock<std::mutex> lock(mpi_, std::defer_lock);
  if (lockQuickly(lock)) {
    auto it = windows_.find(id);
    if (it != windows_.end() && it->second.window) {
      bool granted = it->second.window->begin(kind, seq, jsPolls) == LockWindow::Begin::kGranted;
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
    auto it = windows_.find(id);
    if (it == windows_.end()) return;
    if (it->second.window->begin(kind, seq) == LockWindow::Begin::kGranted) {
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
  std::unique_lock<std::mutex> lock(mpi_, std::defer_lock);
  if (lockQuickly(lock)) {
    auto it = windows_.find(id);
    if (it == windows_.end() || !it->second.window) return Pending::kBusy;
    switch (it->second.window->tryBegin(kind, seq)) {
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
    auto it = windows_.find(id);
    auto answer =
        it == windows_.end() ? LockWindow::Try::kBusy : it->second.window->tryBegin(kind, seq);
    if (answer == LockWindow::Try::kGranted) report(Completion::Type::kGranted, id, kind, seq);
    if (answer == LockWindow::Try::kBusy) report(Completion::Type::kWithdrawn, id, kind, seq);
  });
  return Pending::kThreadPolls;
}

ProgressThread::Pending ProgressThread::pollLock(int32_t id, LockKind kind, uint32_t seq,
                                                 bool handOver) {
  std::unique_lock<std::mutex> lock(mpi_, std::defer_lock);
  if (handOver) {
    lock.lock();
  } else if (!lock.try_lock()) {
    return Pending::kJsPolls;
  }
  auto it = windows_.find(id);
  if (it == windows_.end()) return Pending::kJsPolls;
  if (it->second.window->pollFromJs(kind, seq, handOver)) return Pending::kGranted;
  if (!handOver) return Pending::kJsPolls;
  lock.unlock();
  post([] {});
  return Pending::kThreadPolls;
}

void ProgressThread::endLock(int32_t id, LockKind kind, bool downgrade) {
  auto end = [this, id, kind, downgrade] {
    auto it = windows_.find(id);
    if (it == windows_.end()) return false;
    LockWindow& w = *it->second.window;
    kind == LockKind::kRead ? w.endRead() : w.endWrite(downgrade);
    return w.readCached();
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

bool ProgressThread::withdrawLock(int32_t id, LockKind kind, uint32_t seq) {
  post([this, id, kind, seq] {
    std::lock_guard<std::mutex> lock(mpi_);
    auto it = windows_.find(id);
    if (it == windows_.end()) return;
    if (it->second.window->withdraw(kind, seq)) {
      report(Completion::Type::kWithdrawn, id, kind, seq);
    }
  });
  return true;
}

void ProgressThread::sampleCounters(int32_t id, std::chrono::microseconds interval) {
  post([this, id, interval] {
    auto it = windows_.find(id);
    if (it == windows_.end()) return;
    it->second.sampleEvery = interval;
    it->second.nextSample = std::chrono::steady_clock::now();
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
      WindowAtomics atomics(w.win(), w.master());
      Completion c{Completion::Type::kCounters};
      c.window = id;
      int64_t counters[kCounterCount];
      for (int i = 0; i < kCounterCount; ++i) counters[i] = atomics.load(static_cast<Counter>(i));
      LockState s = decodeState(counters);
      c.state[0] = s.readers;
      c.state[1] = s.writer;
      c.state[2] = s.writersQueued;
      c.state[3] = s.phase;
      outbox_.push_back(std::move(c));
      entry.nextSample = now + entry.sampleEvery;
    }
    next = std::min(next, std::chrono::duration_cast<microseconds>(entry.nextSample - now));
  }
  return next;
}

bool ProgressThread::readCounters(int32_t id, int64_t out[kCounterCount]) {
  std::lock_guard<std::mutex> lock(mpi_);
  auto it = windows_.find(id);
  if (it == windows_.end() || !it->second.window) return false;
  LockWindow& w = *it->second.window;
  WindowAtomics atomics(w.win(), w.master());
  for (int i = 0; i < kCounterCount; ++i) out[i] = atomics.load(static_cast<Counter>(i));
  return true;
}

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
  bool watch = now - lastWatch_ >= kWatchInterval;
  if (watch) {
    lastWatch_ = now;
    watching_ = false;
  }
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
    it = freed ? windows_.erase(it) : std::next(it);
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
        bool freeing = false;
        for (auto& op : entry.ops) freeing |= dynamic_cast<FreeWindowOp*>(op.get()) != nullptr;
        if (!freeing) {
          queueBlocking(entry.ops, std::make_unique<FreeWindowOp>(0, id, *entry.window, [] {}));
        }
      }
    }
    bool progressed = pollOnce() || !commands.empty();
    auto untilSample = shuttingDown ? std::chrono::microseconds::max()
                                    : sampleDue(std::chrono::steady_clock::now());
    if (!shuttingDown) deliver();
    bool busy = active();
    if (shuttingDown && !busy) {
      std::lock_guard<std::mutex> lock(mpi_);
      if (windows_.empty()) break;
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

bool ProgressThread::hostsCounters() const {
  std::lock_guard<std::mutex> lock(mpi_);
  for (const auto& [id, entry] : windows_) {
    if (entry.window->master() == entry.window->rank()) return true;
  }
  return false;
}

// Lets MPI progress one-sided requests that target this rank (emulated atomics).
void ProgressThread::idleProgress() {
  std::lock_guard<std::mutex> lock(mpi_);
  for (const auto& [id, entry] : windows_) {
    if (entry.window->master() != entry.window->rank()) continue;
    int flag = 0;
    MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, entry.window->comm(), &flag, MPI_STATUS_IGNORE);
  }
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
