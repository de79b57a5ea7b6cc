// Node-level readers-writer lock in memory shared by the processes of one node (plain C++17,
// Linux futexes; no MPI, no Node). The lead wires it into the runtime; this header is the
// whole interface.
//
// ALGORITHM. Phase-fair ticket lock (PF-T, Brandenburg and Anderson 2010) on 32-bit counters:
//   rin  = kReaderInc * (read entries) + writer bits;  rout = kReaderInc * (read leaves)
//   win  = writer tickets handed out;                   wout = writer tickets served
// A reader adds kReaderInc to rin; if writer bits were set (B), it waits until rin's bits
// differ from B (one writer phase at most). A writer takes a ticket, waits for wout == ticket
// (FIFO), sets its bits in rin, and drains: waits until rout equals rin's reader part as it
// read it (every reader ahead has left). Release: clear the bits, then pass the turn (wout+1).
// The phase bit flips with every writer that really enters (not ticket & 1), so a ticket
// skipped by a cancelled writer cannot make the next writer's bits equal to those readers
// blocked one phase ago still wait to see change (the ABA model/phase_fair_lock.pml found).
//
// WAITING. Every waiter sleeps on a futex word of its own (Entry::seq in its slot), never on a
// counter other processes change all the time: it spins up to Options::spinChecks checks
// (sched_yield every yieldEvery), then announces itself (sleeping=1), reads seq, re-checks,
// and FUTEX_WAITs on seq (shared futex: no FUTEX_PRIVATE_FLAG). A releaser changes the
// counter, then looks at the one entry whose turn it is: only when it sleeps, it bumps seq and
// calls FUTEX_WAKE. These accesses are seq_cst, so either the waiter's re-check sees the
// change or the releaser sees sleeping=1 (and the waiter's FUTEX_WAIT sees seq moved or is
// woken): no lost wake-up, and no shared write when nobody sleeps. Who is woken:
//   - writer handover: the next ticket's owner, found in ring[ticket % maxSlots], which a
//     writer fills in before it first checks wout (a ticket not yet announced needs no wake);
//   - read phase: a writer's release wakes the readers waiting on its bits (WAITING|B);
//   - drain: the reader whose leave makes rout reach the draining writer's target.
//
// CANCELLATION AND DEADLINES (same path; cancel() from any thread of the owning process):
//   - reader blocked by a writer: its entry becomes CANCELLED|B; its rin entry stays counted
//     and is given back (rout+1) by whoever sees the phase change first, the writer's release
//     or the reader itself (a CAS decides). A new read in the same slot adopts it again.
//   - writer before its turn: ring entry WAITING -> CANCELLED; whoever passes the turn to it
//     passes it on (skip). At its turn, before raising its bits: it passes the turn on. While
//     draining: the call returns at once, but the bits stay up until the readers ahead have
//     left; the leave that reaches the target (drain word flagged withdrawn; a CAS with the
//     writer) releases the bits and passes the turn. Dropping them at once let the next writer
//     raise the same bits that readers blocked one phase earlier still waited to see change
//     (an ABA model/node_lock.pml found: that reader and that writer waited for each other).
//     A new write in the same slot adopts a cancelled ticket not yet passed (same FIFO place).
//   - after the grant, before the call returned: released at once, the call says kCancelled.
//   A cancel after a call returned kGranted is a no-op: release as usual.
//
// BIASED READS (Options::biased). After a read the slot may keep its rin entry as a cached
// hold (CACHED) while no writer is around; the next read of that slot is a CAS on the slot's
// own word (no shared counter touched). A writer that has to drain revokes without the
// reader's process doing anything: it takes an idle cached hold itself (CAS CACHED -> IDLE,
// then rout+1, the reader's leave done on its behalf) and marks one in use (HOLD -> HOLD|REVOKE)
// so its release gives the hold back instead of caching it. What a writer depends on is only
// that a reader inside its read section leaves it, as for any read; never on the owning
// process noticing a revocation (it may be busy or asleep). A reader that caches a hold
// re-checks rin's writer bits after the CAS and takes it back if a writer came (seq_cst
// Dekker with the writer's bits-then-scan). A revoked slot caches nothing for 2 ms.
//
// SLOTS. Each process attaches with a slot index < maxSlots (e.g. its node-local rank). A slot
// runs at most one read request and one write request at a time (the runtime's per-rank
// scheduler shares one native hold among local tasks). A writer's drain scan and a release's
// read-phase scan read every slot: O(maxSlots) loads, only when someone waits.
//
// PROCESS DEATH. A process that dies holding the lock or in the middle of one of its few
// atomic steps can leave the node lock stuck; the job ends through MPI anyway, and every wait
// has a deadline, so waiters return kTimedOut rather than sleep forever during tear-down.
// A process that dies while it waits (or holds, or caches a read) is withdrawn by
// reclaimDead(): any process may call it; it finds slots whose pid is gone (kill(pid, 0) fails
// with ESRCH, or /proc says zombie) and cancels or releases their entries exactly as the
// owner would (CAS on each step, so concurrent reclaimers do it once). A sleeping waiter
// calls it itself every Options::reclaimEveryMs (a timed futex wait: one wake-up per period
// while it sleeps, nothing otherwise), so the others go on after a waiter is killed.
// Assumes pids are not reused within the job and all slots share one pid namespace.
//
// INIT-ONCE. The region (regionBytes(maxSlots), 64-byte aligned) must be zero-filled before
// any process attaches: POSIX shm_open + ftruncate gives zeros; for MPI_Win_allocate_shared the
// node's rank 0 memsets it and the node barriers before the others attach. The first attach
// claims the header (CAS 0 -> 1), writes the geometry, then publishes 2; the others wait for
// 2 and check the geometry (std::runtime_error on a mismatch).
//
// COHORT (design; the global level is the runtime's, item 3 of issue 13). The node lock
// becomes the local lock of a cohort lock (Dice, Marathe, Shavit 2012): a process that has
// the node write lock asks whether its node owns the global write lock; if not, it acquires
// it (the global FIFO queue, fetch-and-op only), and the node keeps it while local writers
// are queued: at release, if win != wout + 1 (another local writer holds a ticket) and the
// node has passed it on fewer than Cohort::maxHandovers times or for less than maxHoldMs,
// the global hold goes with the turn (no global release); otherwise the releaser gives the
// global lock back first and the next local writer queues globally again. Readers: the first
// reader of a read phase on the node takes one global read hold for the node and the last
// one to leave drops it (a node-level reader count next to rin); a local writer that drains
// makes the node drop it. Interface the runtime will need (not implemented here):
//   struct Cohort { uint32_t maxHandovers; uint32_t maxHoldMs; };
//   bool writeTakesGlobal() const;   // after write() granted: must the caller take global?
//   bool writeKeepsGlobal();         // before writeRelease(): pass the global hold on?
// Global FIFO then holds because a node never keeps the global lock longer than the bound
// while another node is queued, and local FIFO is this lock's ticket order.
#pragma once
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

// Linux futexes (FUTEX_WAIT_BITSET, shared mappings). Elsewhere the lock still compiles, but
// the runtime does not serve windows with it (the global lock does): its waits would nap.
#if defined(__linux__) && !defined(MPILOCK_NO_FUTEX)
#define MPILOCK_HAS_FUTEX 1
#else
#define MPILOCK_HAS_FUTEX 0
#endif

namespace mpilock::node {

constexpr bool kHasFutex = MPILOCK_HAS_FUTEX == 1;

using Clock = std::chrono::steady_clock;  // CLOCK_MONOTONIC, as FUTEX_WAIT_BITSET's default

constexpr uint32_t kReaderInc = 0x100;
// awaitWrite's untilHead returns once at most this many writers are ahead (the turn holder
// included): two, so that the wake-up of the writer two places back and its trip into
// JavaScript happen while the two before it hold, off the handover's path.
constexpr uint32_t kHeadDepth = 2;
constexpr uint32_t kWriterBits = kReaderInc - 1;
constexpr uint32_t kPresent = 0x2;
constexpr uint32_t kPhase = 0x1;

// Reader word of a slot: state << 8 | writer bits it waits on.
enum ReadState : uint32_t {
  kIdle = 0,
  kWaiting = 1u << 8,
  kReadCancelled = 2u << 8,
  kHold = 3u << 8,
  kCached = 4u << 8,
  kRevoke = 8u << 8,  // flag on kHold: give the hold back at release
};
// Ring entry: ticket << 32 | slot << 8 | state.
enum TurnState : uint32_t { kEmpty = 0, kQueued = 1, kWriteCancelled = 2, kPassed = 3 };

// A futex word of one waiter and its bookkeeping (shared).
// How an entry's owner sleeps (Entry::sleeping): not at all, in FUTEX_WAIT on seq, or in its
// process's event loop, woken through the process's own wake-up (NodeLock::setLoopWaker).
enum Sleep : uint32_t { kAwake = 0, kInFutex = 1, kInLoop = 2 };

struct alignas(64) Entry {
  std::atomic<uint32_t> seq{0};        // the futex word: bumped by whoever wakes this entry
  std::atomic<uint32_t> sleeping{0};   // Sleep: how the owner may sleep now
  std::atomic<uint32_t> wakeCalls{0};  // FUTEX_WAKE calls made for this entry (for tests)
  std::atomic<uint32_t> wantsHead{0};  // a writer's: wake it when it becomes next in line
};

struct alignas(64) Slot {
  std::atomic<uint32_t> pid{0};      // owner; 0 = free or reclaimed
  std::atomic<uint32_t> rword{0};    // ReadState
  std::atomic<uint32_t> wticket{0};  // last ticket this slot took
  std::atomic<uint32_t> hasTicket{0};
  std::atomic<uint32_t> atTurn{0};  // 1 from its turn to its release (for reclaim)
  Entry read;
  Entry write;
};

struct alignas(64) Line {
  std::atomic<uint32_t> v{0};
};

// One ring entry per line: neighbouring tickets belong to writers on other cores.
struct alignas(64) RingEntry {
  std::atomic<uint64_t> v{0};
};

struct Header {
  alignas(64) std::atomic<uint32_t> init;  // 0 untouched, 1 initializing, 2 ready
  uint32_t magic;
  uint32_t maxSlots;
  Line rin, rout, win;
  struct alignas(64) {
    std::atomic<uint32_t> v{0};      // wout
    std::atomic<uint32_t> phase{0};  // phase bit of the last writer that entered (turn holder's)
  } wout;
  Line readWaiters;                         // reader words in kWaiting or kReadCancelled
  alignas(64) std::atomic<uint64_t> drain;  // draining writer: target rout << 32 | slot + 1
};

size_t regionBytes(uint32_t maxSlots);

// kHead (awaitWrite with untilHead only): not granted yet but next in line; still pending.
enum class Status { kGranted, kTimedOut, kCancelled, kHead };
// What the first step of a request or one poll of it found (the runtime drives requests in
// steps: its JavaScript thread begins and polls, a waiter thread sleeps on the rest).
enum class Step { kGranted, kWaiting };

// One request's cancel handle: pass it to read()/write(), call NodeLock::cancel(token) from
// another thread. Reusable once the call returned (reset()).
struct CancelToken {
  std::atomic<uint32_t> cancelled{0};
  std::atomic<Entry*> waitingOn{nullptr};
  void reset() { cancelled.store(0), waitingOn.store(nullptr); }
};

struct Options {
  uint32_t spinChecks = 2000;  // checks before sleeping (0: sleep at once)
  uint32_t yieldEvery = 16;    // sched_yield every this many checks
  // ... and for at most this long: under load a sched_yield can give the core away for a
  // whole time slice, and a waiter that yields a hundred times notices its turn late, where
  // a futex wake-up would have run it at once.
  uint32_t spinMicros = 50;
  bool biased = true;
  uint32_t reclaimEveryMs = 500;  // while asleep, look for dead slots this often (0: never)
};

// Process-local counters (for tests and the bench). Bumped by this process's waiting threads
// with relaxed load+store: exact with one waiting thread per kind, never a data race.
struct Stats {
  using C = std::atomic<uint64_t>;
  C sleeps{0};       // FUTEX_WAIT calls
  C wokenUp{0};      // FUTEX_WAIT returned 0 (a wake, maybe a cancel's)
  C wakeCalls{0};    // FUTEX_WAKE calls made
  C ticks{0};        // timed sleeps that ended for a dead-slot check
  C cachedReads{0};  // reads granted on the slot's cached hold
  C stolenHolds{0};  // idle cached holds this process's writers took back
  C cancelReaderBlocked{0}, cancelWriterQueued{0}, cancelWriterAtTurn{0}, cancelAfterGrant{0};
  C reclaimed{0};  // dead slots withdrawn
  // Phase-fairness as the lock sees it, from the arrival on (not from before the call):
  C maxReadWaitWrites{0};  // writer turns served while a blocked read waited (PF: <= 1)
  C maxWriteWaitTurns{0};  // tickets ahead of a write when it took its own (FIFO queue length)
  static void bump(C& c) {
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  static void atLeast(C& c, uint64_t v) {
    if (v > c.load(std::memory_order_relaxed)) c.store(v, std::memory_order_relaxed);
  }
};

// What the counters say (a sample).
struct Snapshot {
  uint32_t readers;        // rin entries not left (holding, cached, blocked or cancelled)
  bool writerIn;           // writer bits set (draining or holding)
  uint32_t writersQueued;  // tickets not yet served
  uint32_t cachedHolds;    // of the readers: idle cached holds (biased reads)
  int32_t writerSlot;      // the slot at its turn (draining or holding), -1 if none
  uint32_t phase;          // the phase bit of the current or last writer
};

class NodeLock {
 public:
  NodeLock(void* region, size_t bytes, uint32_t maxSlots, uint32_t slot, Options options = {});

  // Blocking acquire with a deadline (Clock::time_point::max(): none) and an optional token.
  Status read(Clock::time_point deadline = Clock::time_point::max(), CancelToken* token = nullptr);
  void readRelease();
  Status write(Clock::time_point deadline = Clock::time_point::max(), CancelToken* token = nullptr);
  void writeRelease();
  static void cancel(CancelToken& token);

  // The same requests in steps. begin*: arrive (take the reader entry or the ticket) and check
  // once; the request then stays pending in this slot until poll* finds it granted, await*
  // waits it out (as read()/write() do, and withdraws it when it times out or is cancelled),
  // or withdraw* takes it back. Never waits; one pending request per kind at a time, and a
  // pending request is driven by one thread at a time (the caller hands it over).
  Step beginRead();
  Step pollRead();
  Status awaitRead(Clock::time_point deadline, CancelToken* token);
  void withdrawRead();
  Step beginWrite();
  Step pollWrite();
  // `untilHead`: return kHead (the request still pending) as soon as the writer before it has
  // its turn: the turn holder wakes its successor then, so that the successor's caller can
  // watch for the handover itself (the runtime's JavaScript thread polls) instead of being
  // woken at the release, a wake-up that would then lie on the handover's path.
  Status awaitWrite(Clock::time_point deadline, CancelToken* token, bool untilHead = false);
  void withdrawWrite();
  // Tickets ahead of the pending write (0: its turn came, or none pending).
  uint32_t writersAhead() const;
  // Take it only if it is free for the kind now (a writer: no reader in but cached holds,
  // no writer in or queued); false changes nothing another process would wait for.
  bool tryRead();
  bool tryWrite();
  // The write hold becomes a read hold with no gap (the reader entry is taken first).
  void writeDowngrade();

  size_t reclaimDead();  // withdraw the entries of slots whose process is gone
  void detach();  // clears this slot's pid (the slot must be idle; a cached hold is given back)

  Snapshot snapshot() const;
  const Stats& stats() const { return stats_; }
  void setReclaimEveryMs(uint32_t ms) { opt_.reclaimEveryMs = ms; }  // before any wait
  bool reclaimsDead() const { return opt_.reclaimEveryMs != 0; }

  // Sleeping in the event loop (the runtime's way to take the waiter thread off the
  // handover): `waker(slot)` wakes the process of `slot` (it must be cheap and never block);
  // set before any request. sleepInLoop(kind) announces the pending request as asleep there
  // (a writer further back than kHeadDepth also wants a wake-up at the head); its caller then
  // polls once more (a change before the announcement is not announced to it) and again at
  // each wake-up; wokenInLoop(kind) ends the announcement.
  using LoopWaker = void (*)(void* context, uint32_t slot);
  void setLoopWaker(LoopWaker waker, void* context) { waker_ = waker, wakerContext_ = context; }
  void sleepInLoop(bool write, bool untilHead);
  void wokenInLoop(bool write);
  uint32_t slot() const { return slot_; }
  const Slot& slotInfo(uint32_t i) const { return slots_[i]; }  // for observers and tests

 private:
  enum Kind { kRead, kWrite };
  Slot& slotAt(uint32_t i) const { return slots_[i]; }
  std::atomic<uint64_t>& ringAt(uint32_t ticket) const { return ring_[ticket % maxSlots_].v; }
  template <class Ready>
  Status await(Entry& e, Ready ready, Clock::time_point deadline, CancelToken* token);
  void wakeEntry(Entry& e);
  void leaveRead();
  void finishWithdrawal(uint32_t slot);
  void cancelBlockedRead(Slot& s, uint32_t bits);
  void grantRead();
  void enterTurn();
  void withdrawDrain();
  void cancelQueuedWrite(uint32_t ticket, uint32_t slot);
  void releaseBits(uint32_t bits);
  void passTurn(uint32_t next);
  void revokeCached();
  void reclaimSlot(uint32_t i);

  Header* h_;
  RingEntry* ring_;
  Slot* slots_;
  uint32_t maxSlots_;
  uint32_t slot_;
  Options opt_;
  uint32_t myBits_ = 0;
  uint32_t myTicket_ = 0;
  uint32_t readArrival_ = 0;  // wout when the current blocked read arrived
  uint32_t readBits_ = 0;     // the writer bits the pending read waits to see change
  enum class WriteStage { kNone, kTurn, kDrain } writeStage_ = WriteStage::kNone;
  uint32_t drainTarget_ = 0;          // rout the draining writer waits for
  Clock::time_point noCacheUntil_{};  // a revoked slot caches nothing until then
  bool inhibited_ = false;
  LoopWaker waker_ = nullptr;
  void* wakerContext_ = nullptr;
  Stats stats_;
};

}  // namespace mpilock::node
