// Exclusion, sharing, FIFO, phase-fairness, wake-ups and init-once of the node lock, each
// in forked processes on one shared region.
#include <fcntl.h>
#include <sys/stat.h>

#include "harness.h"

using namespace nltest;

namespace {

// Writers alone (no lost update on a plain counter), readers never beside a writer.
bool exclusion(bool biased) {
  Shared s = makeShared();
  const int procs = 4, ops = 3000;
  std::vector<pid_t> pids;
  for (int p = 0; p < procs; ++p)
    pids.push_back(spawn([&, p] {
      Options o;
      o.biased = biased;
      NodeLock lock = attach(s, p, o);
      Board& b = *s.board;
      uint64_t writes = 0;
      for (int k = 0; k < ops; ++k) {
        if ((k + p) % 3 == 0) {
          CHECK(lock.write() == Status::kGranted);
          CHECK(b.inW.fetch_add(1) == 0 && b.inR.load() == 0);
          uint64_t c = b.counter;
          if (k % 7 == 0) sched_yield();  // widen the read-modify-write window
          b.counter = c + 1;
          ++writes;
          b.inW.fetch_sub(1);
          lock.writeRelease();
        } else {
          CHECK(lock.read() == Status::kGranted);
          b.inR.fetch_add(1);
          CHECK(b.inW.load() == 0);
          if (k % 5 == 0) sched_yield();
          b.inR.fetch_sub(1);
          lock.readRelease();
        }
      }
      b.ops[p].store(writes);
      lock.detach();
    }));
  bool ok = joinAll(pids);
  uint64_t writes = 0;
  for (int p = 0; p < procs; ++p) writes += s.board->ops[p].load();
  if (s.board->counter != writes) {
    std::fprintf(stderr, "lost updates: counter %llu, writes %llu\n",
                 static_cast<unsigned long long>(s.board->counter),
                 static_cast<unsigned long long>(writes));
    ok = false;
  }
  return ok;
}

}  // namespace

NL_TEST(exclusion_biased) { return exclusion(true); }
NL_TEST(exclusion_unbiased) { return exclusion(false); }

// Readers share: three readers each wait, holding, until all three are in.
NL_TEST(readers_share) {
  Shared s = makeShared();
  std::vector<pid_t> pids;
  for (int p = 0; p < 3; ++p)
    pids.push_back(spawn([&, p] {
      NodeLock lock = attach(s, p);
      CHECK(lock.read(in(5000)) == Status::kGranted);
      s.board->inR.fetch_add(1);
      until([&] { return s.board->inR.load() == 3; });
      lock.readRelease();
    }));
  return joinAll(pids);
}

// Writers are served in ticket order, sleeping or spinning.
static bool fifo(uint32_t spin) {
  Shared s = makeShared();
  const int waiters = 5;
  std::vector<pid_t> pids;
  pids.push_back(spawn([&] {
    NodeLock lock = attach(s, 0);
    CHECK(lock.write() == Status::kGranted);
    s.board->ready.store(1);
    until([&] { return lock.snapshot().writersQueued == waiters + 1; });
    lock.writeRelease();
  }));
  for (int w = 1; w <= waiters; ++w)
    pids.push_back(spawn([&, w] {
      Options o;
      o.spinChecks = spin;
      NodeLock lock = attach(s, w, o);
      until([&] {
        return s.board->ready.load() == 1 &&
               lock.snapshot().writersQueued == static_cast<uint32_t>(w);
      });
      CHECK(lock.write(in(10000)) == Status::kGranted);
      s.board->log[s.board->logPos.fetch_add(1)] = w;
      lock.writeRelease();
    }));
  bool ok = joinAll(pids);
  for (int w = 1; w <= waiters; ++w)
    if (s.board->log[w - 1] != static_cast<uint32_t>(w)) {
      std::fprintf(stderr, "grant %d went to writer %u\n", w, s.board->log[w - 1]);
      ok = false;
    }
  return ok;
}
NL_TEST(fifo_sleeping) { return fifo(0); }
NL_TEST(fifo_spinning) { return fifo(2000); }

// Phase-fair under constant contention: while two readers keep the lock read-held and two
// writers keep asking, every process makes progress; a blocked read waits for at most one
// writer turn, and a write has at most the other writers ahead of it. Both are measured
// by the lock from the request's arrival (a wall-clock window around the call would also
// count what ran while this process was preempted before it asked).
NL_TEST(phase_fair) {
  Shared s = makeShared();
  const int readers = 2, writers = 2;
  std::vector<pid_t> pids;
  for (int p = 0; p < readers + writers; ++p)
    pids.push_back(spawn([&, p] {
      NodeLock lock = attach(s, p);
      Board& b = *s.board;
      bool writer = p >= readers;
      b.ready.fetch_add(1);
      until([&] { return b.ready.load() == readers + writers; });
      uint64_t n = 0;
      auto end = in(300);
      while (Clock::now() < end) {
        CHECK((writer ? lock.write(in(5000)) : lock.read(in(5000))) == Status::kGranted);
        if (writer) {
          lock.writeRelease();
        } else {
          for (int i = 0; i < 200; ++i) std::atomic_signal_fence(std::memory_order_seq_cst);
          lock.readRelease();
        }
        ++n;
      }
      b.ops[p].store(n);
      b.value[p][0].store(lock.stats().maxReadWaitWrites.load());
      b.value[p][1].store(lock.stats().maxWriteWaitTurns.load());
      CHECK(n >= 10);
      CHECK(lock.stats().maxReadWaitWrites.load() <= 1);
      CHECK(lock.stats().maxWriteWaitTurns.load() <= writers - 1);
      lock.detach();
    }));
  bool ok = joinAll(pids);
  std::printf("  phase_fair ops (max writer turns waited, tickets ahead):");
  for (int p = 0; p < readers + writers; ++p)
    std::printf(" %s%llu (%llu, %llu)", p < readers ? "r" : "w",
                static_cast<unsigned long long>(s.board->ops[p].load()),
                static_cast<unsigned long long>(s.board->value[p][0].load()),
                static_cast<unsigned long long>(s.board->value[p][1].load()));
  std::printf("\n");
  return ok;
}

// A sleeping waiter is woken exactly once, by exactly the release that gives it the lock:
// writer handover (each of three queued writers), a read phase (three readers), a drain.
NL_TEST(woken_exactly_once) {
  Shared s = makeShared();
  Options sleepy;
  sleepy.spinChecks = 0;
  sleepy.reclaimEveryMs = 0;
  sleepy.biased = false;
  Board& b = *s.board;
  std::vector<pid_t> pids;
  // Slot 0 writes; 1-3 queue writes; 4-6 read after them; 7 writes behind two readers.
  pids.push_back(spawn([&] {
    NodeLock lock = attach(s, 0, sleepy);
    CHECK(lock.write() == Status::kGranted);
    b.ready.store(1);
    until([&] {
      for (int i = 1; i <= 3; ++i)
        if (!asleep(lock, i, true)) return false;
      return true;
    });
    lock.writeRelease();
    CHECK(lock.stats().wakeCalls.load() == 1);
  }));
  for (int w = 1; w <= 3; ++w)
    pids.push_back(spawn([&, w] {
      NodeLock lock = attach(s, w, sleepy);
      until([&] {
        return b.ready.load() == 1 && lock.snapshot().writersQueued == static_cast<uint32_t>(w);
      });
      CHECK(lock.write() == Status::kGranted);
      if (w == 3) {
        // Readers 4-6 sleep behind this writer's bits, then all wake at its release.
        b.step.store(1);
        until([&] {
          for (int i = 4; i <= 6; ++i)
            if (!asleep(lock, i, false)) return false;
          return true;
        });
      }
      lock.writeRelease();
      CHECK(lock.stats().sleeps.load() == 1 && lock.stats().wokenUp.load() == 1);
      CHECK(lock.slotInfo(w).write.wakeCalls.load() == 1);
      CHECK(lock.stats().wakeCalls.load() == (w == 3 ? 3u : 1u));
    }));
  for (int r = 4; r <= 6; ++r)
    pids.push_back(spawn([&, r] {
      NodeLock lock = attach(s, r, sleepy);
      until([&] { return b.step.load() == 1; });
      CHECK(lock.read() == Status::kGranted);
      CHECK(lock.stats().sleeps.load() == 1 && lock.stats().wokenUp.load() == 1);
      CHECK(lock.slotInfo(r).read.wakeCalls.load() == 1);
      b.inR.fetch_add(1);
      until([&] { return lock.snapshot().writerIn && asleep(lock, 7, true); });
      // Readers leave one by one; only the last leave wakes the draining writer.
      until([&] { return b.logPos.load() == static_cast<uint32_t>(r - 4); });
      lock.readRelease();
      b.logPos.fetch_add(1);
      CHECK(lock.stats().wakeCalls.load() == (r == 6 ? 1u : 0u));
    }));
  pids.push_back(spawn([&] {
    NodeLock lock = attach(s, 7, sleepy);
    until([&] { return b.inR.load() == 3; });
    CHECK(lock.write() == Status::kGranted);
    CHECK(lock.stats().sleeps.load() == 1 && lock.stats().wokenUp.load() == 1);
    CHECK(lock.slotInfo(7).write.wakeCalls.load() == 1);
    lock.writeRelease();
  }));
  return joinAll(pids);
}

// Init-once on a named POSIX segment that the processes open themselves.
NL_TEST(posix_segment) {
  char name[64];
  std::snprintf(name, sizeof name, "/mpilock-nodelock-test-%d", getpid());
  shm_unlink(name);
  Shared s = makeShared();  // only the board; the lock lives in the named segment
  size_t bytes = mpilock::node::regionBytes(kSlots);
  std::vector<pid_t> pids;
  for (int p = 0; p < 4; ++p)
    pids.push_back(spawn([&, p] {
      int fd = shm_open(name, O_RDWR | O_CREAT, 0600);
      CHECK(fd >= 0 && ftruncate(fd, static_cast<off_t>(bytes)) == 0);
      void* m = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
      CHECK(m != MAP_FAILED);
      NodeLock lock(m, bytes, kSlots, p);
      for (int k = 0; k < 500; ++k) {
        CHECK(lock.write() == Status::kGranted);
        uint64_t c = s.board->counter;
        if (k % 9 == 0) sched_yield();
        s.board->counter = c + 1;
        lock.writeRelease();
      }
      lock.detach();
    }));
  bool ok = joinAll(pids);
  shm_unlink(name);
  if (s.board->counter != 2000) ok = false;
  return ok;
}
