// The lock of a controller whose ranks all share one node: the node lock (node_lock/) in a
// POSIX shared-memory segment, driven the way JavaScript drives the global lock (begin, poll,
// try, end, withdraw; protocol.h's Pending answers) with no MPI call and no MPI mutex. A
// request that must wait is polled by the JavaScript thread for a while, then handed to a
// waiter thread of its kind, which sleeps on the node lock's futex and reports the grant (or
// the withdrawal) as a completion. One request per kind at a time, as for the global lock.
// A write further back in the queue is not polled: its waiter sleeps until at most
// node::kHeadDepth writers are ahead, then reports kHead and JavaScript polls it again, so
// that the handover itself needs no wake-up and no thread hop (both happen while the
// writers ahead of it hold).
// LOOP WAKE. Where every rank of the node made and opened the others' wake-up FIFOs (one per
// rank and table, lock/wake_channel.h, set up at window creation), a request that must wait sleeps
// in the event loop instead of on a waiter thread: the node lock's releaser writes a byte into the
// sleeper's FIFO, libuv wakes the JavaScript thread (addon/node/loop_wake.h), and onWake() there
// polls the request and reports it directly. One wake-up per handover instead of two (the waiter
// thread's, then the thread-safe function's), and no thread-safe function round trip.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "lock/wake_channel.h"
#include "node_lock/node_lock.h"
#include "protocol/completion.h"
#include "protocol/protocol.h"

namespace mpilock {

// A shared-memory segment mapped into this process (unmapped when destroyed).
class NodeSegment {
 public:
  // The node's first rank: a new segment of `bytes` zeroed bytes under a fresh name.
  static std::unique_ptr<NodeSegment> create(size_t bytes, std::string& error);
  // Another rank: the segment `name` as made by create().
  static std::unique_ptr<NodeSegment> open(const std::string& name, size_t bytes,
                                           std::string& error);
  ~NodeSegment();
  void unlink();  // once every rank of the node mapped it: nothing is left in /dev/shm
  void* base() const { return base_; }
  size_t bytes() const { return bytes_; }
  const std::string& name() const { return name_; }

 private:
  NodeSegment(std::string name, void* base, size_t bytes)
      : name_(std::move(name)), base_(base), bytes_(bytes) {}
  std::string name_;
  void* base_;
  size_t bytes_;
  bool linked_ = true;
};

class NodeLevel : public std::enable_shared_from_this<NodeLevel> {
 public:
  using Report = std::function<void(Completion::Type, LockKind, uint32_t seq)>;
  // The node lock in `bytes` of `segment` from `offset` (0 bytes: all of it); a lock table's
  // entries share one segment, a region each (lock/lock_table.h).
  NodeLevel(std::shared_ptr<NodeSegment> segment, uint32_t slots, uint32_t slot,
            node::Options options, size_t offset = 0, size_t bytes = 0);
  void setReport(Report report) { report_ = std::move(report); }  // before the first request
  void segmentMapped() { segment_->unlink(); }
  void noReclaim() { lock_.setReclaimEveryMs(0); }
  ~NodeLevel();  // withdraws what waits, releases what is held, joins the waiters

  Pending begin(LockKind kind, uint32_t seq, bool jsPolls);
  Pending poll(LockKind kind, uint32_t seq, bool handOver);
  Pending tryBegin(LockKind kind, uint32_t seq);  // kGranted or kBusy
  void end(LockKind kind, bool downgrade);
  void withdraw(LockKind kind, uint32_t seq);  // a kWithdrawn (or a raced kGranted) follows
  bool busy();                                 // a request pending on a waiter thread

  // Waits sleep in the event loop from now on, woken through `channel` (ready; before the
  // first request); `window`: this entry's id in its completions.
  void useChannel(std::shared_ptr<WakeChannel> channel, int32_t window);
  const std::shared_ptr<WakeChannel>& channel() const { return channel_; }
  bool asleepInLoop() const { return loopSleeping_.load() > 0; }
  // The JavaScript thread, once the channel woke it: what the sleeping requests came to.
  CompletionBatch onWake();
  // A dead rank's requests are withdrawn by the living; loop sleepers have no timed futex
  // wait to do it from, so the JavaScript thread's timer calls this every
  // node::Options::reclaimEveryMs (node/loop_wake.cc).
  void reclaimTick();
  void releaseEverything();  // withdraw, release, give a cached read back

  struct Sample {
    int64_t readers, writer, queued, phase;
  };
  Sample sample();

 private:
  enum class State { kIdle, kJsPolls, kThread, kLoop, kHeld };
  struct Request {
    std::mutex m;
    std::condition_variable cv;
    State state = State::kIdle;
    uint32_t seq = 0;
    bool work = false, stop = false;
    bool untilHead = false;  // the waiter returns it (kHead) once it is next in line
    uint32_t polls = 0;      // JavaScript's polls of it so far
    node::CancelToken token;
    std::thread waiter;
  };
  static constexpr uint32_t kPollsBeforeYield = 8;
  Request& request(LockKind kind) { return kind == LockKind::kRead ? read_ : write_; }
  node::Step beginStep(LockKind kind);
  node::Step pollStep(LockKind kind);
  void withdrawStep(LockKind kind);
  void handToWaiter(LockKind kind, Request& r, bool untilHead);  // with r.m held
  // With r.m held: to the waiter thread, or asleep in the event loop where it can.
  Pending handOff(LockKind kind, Request& r, bool untilHead);
  // With r.m held, a kLoop request: granted, next in line (kJsPolls) or still asleep (kLoop).
  State checkLoop(LockKind kind, Request& r);
  void setState(Request& r, State s);  // with r.m held; counts the requests in kLoop
  void waitLoop(LockKind kind);

  std::shared_ptr<NodeSegment> segment_;
  node::NodeLock lock_;
  Report report_;
  Request read_, write_;
  std::shared_ptr<WakeChannel> channel_;  // null: waits sleep on waiter threads
  int32_t window_ = -1;
  std::atomic<int> loopSleeping_{0};  // requests in kLoop
  bool pollsPay_;  // no more ranks on the node than cores: polling from JavaScript pays
};

}  // namespace mpilock
