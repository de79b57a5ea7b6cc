// The MPI runtime of one process: a single progress thread initializes MPI, creates
// and frees the lock windows, polls waiting lock requests and pending collectives with
// bounded backoff, and finalizes MPI once. It sleeps when nothing is pending.
// Its parts, one file each: the thread and its loop (progress_thread.cc), the MPI
// session (mpi_session.cc), the lock fast path (lock_commands.cc), collectives and the
// making of windows and communicators (collective_commands.cc), and what it does while
// idle: state samples, read-bias watching, progress for hosted counters (idle_work.cc).
//
// MPI threading: MPI_THREAD_SERIALIZED is requested so that the JavaScript thread can
// take an uncontended lock synchronously (one remote atomic, no thread hop) under the
// MPI mutex. When MPI provides only MPI_THREAD_FUNNELED, every MPI call runs here.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "collectives/collective_ops.h"
#include "collectives/communicators.h"
#include "lock/lock_window.h"
#include "protocol/completion.h"
#include "protocol/protocol.h"
#include "toolkit/slot_window.h"

namespace mpilock {

struct ProgressOptions {
  std::chrono::microseconds minBackoff{1};
  std::chrono::microseconds maxBackoff{1000};
  // How often a rank that hosts lock counters lets MPI make progress while idle:
  // transports that emulate atomics need the target to poll.
  std::chrono::microseconds idleProgress{1000};
  // Keep a rank's read hold after its last local reader (read_bias.h).
  bool biasedReads = false;
  // Serve windows whose ranks share one node with the node lock (lock/node_level.h).
  bool nodeLock = true;
  // Node lock waits sleep in the event loop, woken through FIFOs (node/loop_wake.h).
  bool loopWake = true;
};

class ProgressThread {
 public:
  using Deliver = std::function<void(CompletionBatch&&)>;

  static ProgressThread& instance();

  // Starts the thread, which initializes MPI and reports a kInit completion.
  void start(Deliver deliver, ProgressOptions options);
  bool started() const { return thread_.joinable(); }

  // Commands from JavaScript; each reports one completion with its token. `comm` is a
  // communicator id (Communicators::kWorld or one made by splitComm).
  // A lock table of `count` entries (lock/lock_table.h): one MPI window, ids window ..
  // window + count - 1 (lock commands by entry; collectives and the free by `window`).
  void createWindow(uint32_t token, int32_t window, int count, int master, int32_t comm);
  // Makes communicator `id` from `parent` (see SplitCommOp); reports kComm.
  void splitComm(uint32_t token, int32_t parent, int32_t id, SplitCommOp::How how, int color,
                 int key, bool valid);
  void freeComm(uint32_t token, int32_t id);
  void freeWindow(uint32_t token, int32_t window);
  void barrier(uint32_t token, int32_t window);
  void agree(uint32_t token, int32_t window, int64_t value);
  void broadcast(uint32_t token, int32_t window, int root, const uint8_t* data, size_t size,
                 size_t chunk);

  // Lock requests. beginLock answers kGranted (granted synchronously), kJsPolls (pending;
  // the caller polls it with pollLock, asked for by `jsPolls`) or kThreadPolls (pending;
  // a kGranted or kWithdrawn completion with the same seq follows). See protocol.h.
  using Pending = ::mpilock::Pending;
  Pending beginLock(int32_t window, LockKind kind, uint32_t seq, bool jsPolls);
  // Takes the lock only if it is free now (LockWindow::tryBegin): kGranted, kBusy,
  // kWithdrawing, or kThreadPolls when the thread must do it (contended MPI mutex or
  // FUNNELED): a kGranted or kWithdrawn (declined) completion with `seq` follows.
  Pending tryLock(int32_t window, LockKind kind, uint32_t seq);
  // One poll of a request the JavaScript thread polls; `handOver` gives it to the thread.
  Pending pollLock(int32_t window, LockKind kind, uint32_t seq, bool handOver);
  void endLock(int32_t window, LockKind kind, bool downgrade);
  // Withdraw the pending request `seq`: a kWithdrawn completion follows, or a kGranted one
  // if the grant won the race (the caller then releases it).
  void withdrawLock(int32_t window, LockKind kind, uint32_t seq);
  // Samples the window's lock counters every `interval` and reports kCounters
  // completions (zero stops it). Costs nothing while stopped.
  // The node lock of window `id` for the JavaScript thread's loop wake (node/loop_wake.h).
  std::shared_ptr<NodeLevel> nodeLevelOf(int32_t id) { return nodeLevel(id); }
  void sampleCounters(int32_t window, std::chrono::microseconds interval);

  // Slot windows (toolkit/slot_window.h, commands in toolkit/slot_commands.cc): made and
  // freed collectively (kSlotsCreated, kSlotsFreed); fetchAdd answers true with `*old`
  // set when done on the caller's thread, else a kFetched completion follows.
  void createSlots(uint32_t token, int32_t id, int root, int32_t parentWindow, int count);
  void freeSlots(uint32_t token, int32_t id);
  bool fetchAdd(uint32_t token, int32_t id, int slot, int64_t delta, int64_t* old);

  // What this process made and holds (lock/lock_table.h, TableCounts), for tests and doctor.
  struct Resources {
    int64_t windowsLive, windowsMade, entriesLive, nodeSplits, segmentsMapped;
  };
  static Resources resources();

  // Releases what this rank holds, frees every window collectively, finalizes MPI, and
  // joins the thread. Idempotent; safe from process exit handlers.
  void shutdown();
  // At exit when a collective can no longer complete (a close() that timed out):
  // MPI_Abort(MPI_COMM_WORLD, code) on the thread, which ends every rank of the job.
  void abort(int code);

 private:
  struct Entry {
    std::unique_ptr<LockWindow> window;
    int32_t table = 0;  // the id of its table's entry 0 (its own id for entry 0)
    int count = 1;      // entry 0: the table's entries (the others: 1)
    std::deque<std::unique_ptr<CollectiveOp>> ops;  // entry 0's: the table's collectives
    std::chrono::microseconds sampleEvery{0};
    std::chrono::steady_clock::time_point nextSample{};
  };
  using Command = std::function<void()>;

  void run();
  // The window `id` (nullptr when unknown or freed) and its lock.
  Entry* entry(int32_t id);
  // The entry 0 of the table of `id`: where its collectives and its free go.
  Entry* tableOf(int32_t id);
  // The locks of the table whose entry 0 is `id`, entry 0 first.
  std::vector<LockWindow*> locksOf(int32_t id);

  LockWindow* lockWindow(int32_t id);
  // The node lock of window `id` (null when the global lock serves it); no MPI mutex needed.
  std::shared_ptr<NodeLevel> nodeLevel(int32_t id);
  // Delivers one lock completion at once, from any thread (the node lock's waiters).
  void deliverNow(Completion::Type type, int32_t window, LockKind kind, uint32_t seq);
  // Takes the MPI mutex if it is free within a few tries (the thread holds it only
  // for non-blocking calls); false when contended or FUNNELED.
  bool lockQuickly(std::unique_lock<std::mutex>& lock);
  void report(Completion::Type type, int32_t window, LockKind kind, uint32_t seq);
  void initialize();  // mpi_session.cc
  void finalize();
  void post(Command command);
  bool pollOnce();  // true when something progressed
  bool active() const;
  void pollLocks(int32_t id, LockWindow& window);
  void deliver();
  bool hostsCounters() const;
  void gone(uint32_t token, int32_t id, const char* what);
  // Queues an op with a blocking MPI call, taking its turn for that call.
  void queueBlocking(std::deque<std::unique_ptr<CollectiveOp>>& ops,
                     std::unique_ptr<CollectiveOp> op);
  // Takes the samples that are due; returns how long until the next one (or max()).
  std::chrono::microseconds sampleDue(std::chrono::steady_clock::time_point now);
  void idleProgress();
  void freeSlotsLeft();
  // True every kWatchInterval: time to give back cached read holds that were revoked or
  // went unused (LockWindow::watchCached).
  bool watchDue(ReadBias::Clock::time_point now);

  std::thread thread_;
  Deliver deliver_;
  ProgressOptions options_;

  std::mutex queueMutex_;
  std::condition_variable wake_;
  std::deque<Command> commands_;
  bool kicked_ = false;
  bool stopping_ = false;
  int abortCode_ = -1;               // >= 0: abort instead of freeing and finalizing
  std::atomic<bool> asleep_{false};  // waiting with no deadline
  bool watching_ = false;            // some window caches a read hold
  // How often cached read holds are checked for revocation: bounds what a writer waits
  // for a rank that cached a read and went idle.
  static constexpr std::chrono::microseconds kWatchInterval{200};
  ReadBias::Clock::time_point lastWatch_{};

  // Guards every MPI call and the windows' lock state.
  mutable std::mutex mpi_;
  bool serialized_ = false;
  bool weInitialized_ = false;
  std::string oscBackingDir_;  // see osc_backing_dir.h
  int rank_ = 0, size_ = 1;
  BlockingTurns turns_;  // before the ops' queues: they leave it when destroyed
  std::map<int32_t, Entry> windows_;
  std::mutex nodeMutex_;  // guards nodeLevels_ only
  std::map<int32_t, std::shared_ptr<NodeLevel>> nodeLevels_;
  SlotWindows slots_;
  Communicators comms_;
  // Making and freeing communicators and windows: one queue, so each rank runs their
  // blocking parts in the order it issued them (as MPI asks of blocking collectives).
  std::deque<std::unique_ptr<CollectiveOp>> creationOps_;
  CompletionBatch outbox_;
  std::mutex shutdownMutex_;
  bool shutDown_ = false;
};

}  // namespace mpilock
