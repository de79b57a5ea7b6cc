// Deadlines, cancellation from another thread at every stage, a stress of random cancels,
// and waiters killed while they sleep on the futex.
#include <signal.h>

#include "harness.h"

using namespace nltest;
using mpilock::node::CancelToken;

namespace {

Options sleepy() {
  Options o;
  o.spinChecks = 0;
  o.biased = false;
  return o;
}

// Runs `call` on a second thread of this process with a token; cancels it from this thread
// once that thread sleeps on its `write` or read entry and `ready` holds; returns what the
// call returned.
template <class Call, class Ready>
Status cancelFromThread(NodeLock& lock, bool write, Call call, Ready ready) {
  CancelToken token;
  Status st = Status::kGranted;
  std::atomic<bool> done{false};
  std::atomic<long> tid{0};
  std::thread t([&] {
    tid.store(static_cast<long>(gettid()));
    st = call(&token);
    done.store(true);
  });
  until([&] { return tid.load() && asleep(lock, lock.slot(), write, tid.load()) && ready(); });
  NodeLock::cancel(token);
  until([&] { return done.load(); }, 2000);  // a cancel returns promptly
  t.join();
  return st;
}

// Lock state back to rest: no reader entry, no writer bits, no ticket pending.
void checkClean(NodeLock& lock) {
  auto s = lock.snapshot();
  CHECK(s.readers == 0 && !s.writerIn && s.writersQueued == 0);
}

}  // namespace

// Deadlines: a blocked reader, a queued writer and a draining writer each time out (the
// last one's bits stay up until the read ahead of it ends), and the lock goes on: the same
// slot then gets what it asked for.
NL_TEST(timeouts) {
  Shared s = makeShared();
  Board& b = *s.board;
  std::vector<pid_t> pids;
  pids.push_back(spawn([&] {
    NodeLock lock = attach(s, 0, sleepy());
    CHECK(lock.write() == Status::kGranted);
    b.step.store(1);
    until([&] { return b.step.load() == 2; });
    lock.writeRelease();
    CHECK(lock.read() == Status::kGranted);  // holds a read for the drain case
    b.step.store(3);
    until([&] { return b.step.load() == 4; });
    lock.readRelease();
  }));
  pids.push_back(spawn([&] {
    NodeLock lock = attach(s, 1, sleepy());
    until([&] { return b.step.load() == 1; });
    CHECK(lock.read(in(30)) == Status::kTimedOut);   // blocked by the writer
    CHECK(lock.write(in(30)) == Status::kTimedOut);  // queued behind it
    b.step.store(2);
    until([&] { return b.step.load() == 3; });
    CHECK(lock.write(in(30)) == Status::kTimedOut);  // draining behind slot 0's read
    CHECK(lock.snapshot().writerIn);  // its bits stay up until slot 0's read (ahead) ends
    b.step.store(4);
    until([&] { return !lock.snapshot().writerIn && lock.snapshot().writersQueued == 0; });
    CHECK(lock.read(in(5000)) == Status::kGranted);
    lock.readRelease();
    CHECK(lock.write(in(5000)) == Status::kGranted);
    lock.writeRelease();
    checkClean(lock);
  }));
  return joinAll(pids);
}

// A reader blocked by a writer, cancelled: returns at once, its entry is given back by the
// writer's release, and a writer after it is not held up.
NL_TEST(cancel_reader_blocked) {
  Shared s = makeShared();
  Board& b = *s.board;
  std::vector<pid_t> pids;
  pids.push_back(spawn([&] {
    NodeLock lock = attach(s, 0, sleepy());
    CHECK(lock.write() == Status::kGranted);
    b.step.store(1);
    until([&] { return b.step.load() == 2; });
    lock.writeRelease();
    CHECK(lock.write(in(5000)) == Status::kGranted);  // drains nothing: the entry was absorbed
    lock.writeRelease();
    checkClean(lock);
  }));
  pids.push_back(spawn([&] {
    NodeLock lock = attach(s, 1, sleepy());
    until([&] { return b.step.load() == 1; });
    Status st = cancelFromThread(
        lock, false, [&](CancelToken* t) { return lock.read(in(10000), t); }, [] { return true; });
    CHECK(st == Status::kCancelled && lock.stats().cancelReaderBlocked.load() == 1);
    b.step.store(2);
  }));
  return joinAll(pids);
}

// A writer queued behind another, cancelled before its turn: the turn skips it.
// Then a writer draining behind a reader, cancelled at its turn: the call returns at once,
// and when the reader ahead leaves, the turn passes on and the reader its bits blocked gets in.
NL_TEST(cancel_writer_queued_and_at_turn) {
  Shared s = makeShared();
  Board& b = *s.board;
  std::vector<pid_t> pids;
  pids.push_back(spawn([&] {  // holder: write, then read
    NodeLock lock = attach(s, 0, sleepy());
    CHECK(lock.write() == Status::kGranted);
    b.step.store(1);
    until([&] { return b.step.load() == 2; });
    lock.writeRelease();
    until([&] { return b.step.load() == 3; });
    CHECK(lock.read() == Status::kGranted);
    b.step.store(4);
    until([&] { return b.step.load() == 5; });
    lock.readRelease();
  }));
  pids.push_back(spawn([&] {  // the cancelled writer
    NodeLock lock = attach(s, 1, sleepy());
    until([&] { return b.step.load() == 1; });
    Status st = cancelFromThread(
        lock, true, [&](CancelToken* t) { return lock.write(in(10000), t); },
        [&] { return asleep(lock, 2, true); });
    CHECK(st == Status::kCancelled && lock.stats().cancelWriterQueued.load() == 1);
    b.step.store(2);
    until([&] { return b.step.load() == 4; });
    st = cancelFromThread(
        lock, true, [&](CancelToken* t) { return lock.write(in(10000), t); },
        [&] { return lock.snapshot().writerIn && asleep(lock, 3, false); });
    CHECK(st == Status::kCancelled && lock.stats().cancelWriterAtTurn.load() == 1);
    CHECK(lock.snapshot().writerIn);  // its bits stay up while slot 0's read (ahead) lasts
    b.step.store(5);
  }));
  pids.push_back(spawn([&] {  // a writer behind the cancelled one: served when it is skipped
    NodeLock lock = attach(s, 2, sleepy());
    until([&] { return b.step.load() == 1 && lock.snapshot().writersQueued >= 2; });
    CHECK(lock.write(in(5000)) == Status::kGranted);
    lock.writeRelease();
    b.step.store(3);
  }));
  pids.push_back(spawn([&] {  // a reader blocked by the draining writer
    NodeLock lock = attach(s, 3, sleepy());
    until([&] { return b.step.load() == 4 && lock.snapshot().writerIn; });
    // Let in once the reader ahead of the withdrawn writer left (its leave ends the drain).
    CHECK(lock.read(in(5000)) == Status::kGranted);
    CHECK(b.step.load() == 5);
    lock.readRelease();
  }));
  bool ok = joinAll(pids);
  return ok;
}

// A cancel that lands after the grant was handed over (the flag set, the waiter not woken
// by it): the waiter wakes with the grant, releases it and says kCancelled; the next
// writer and reader get in. Read and write.
NL_TEST(cancel_after_grant) {
  Shared s = makeShared();
  Board& b = *s.board;
  std::vector<pid_t> pids;
  pids.push_back(spawn([&] {
    NodeLock lock = attach(s, 0, sleepy());
    for (int round = 0; round < 2; ++round) {
      CHECK(lock.write() == Status::kGranted);
      b.step.store(1 + round * 2);
      until([&] { return b.step.load() == 2u + round * 2; });
      lock.writeRelease();
    }
  }));
  pids.push_back(spawn([&] {
    NodeLock lock = attach(s, 1, sleepy());
    for (int round = 0; round < 2; ++round) {
      until([&] { return b.step.load() == 1u + round * 2; });
      CancelToken token;
      Status st = Status::kGranted;
      std::atomic<long> tid{0};
      std::thread t([&] {
        tid.store(static_cast<long>(gettid()));
        st = round == 0 ? lock.write(in(5000), &token) : lock.read(in(5000), &token);
      });
      until([&] { return tid.load() && asleep(lock, 1, round == 0, tid.load()); });
      token.cancelled.store(1);
      b.step.store(2 + round * 2);
      t.join();
      CHECK(st == Status::kCancelled);
      CHECK(lock.stats().cancelAfterGrant.load() == 1u + round);
    }
    CHECK(lock.write(in(5000)) == Status::kGranted);
    lock.writeRelease();
    checkClean(lock);
  }));
  return joinAll(pids);
}

// Four processes, mixed reads and writes with random deadlines and cancels from a second
// thread: no lost update, no writer beside anyone, and the lock at rest at the end.
NL_TEST(cancel_stress) {
  Shared s = makeShared();
  Board& b = *s.board;
  const int procs = 4;
  std::vector<pid_t> pids;
  for (int p = 0; p < procs; ++p)
    pids.push_back(spawn([&, p] {
      Options o;
      o.spinChecks = p % 2 ? 0 : 200;
      NodeLock lock = attach(s, p, o);
      std::atomic<CancelToken*> current{nullptr};
      std::atomic<bool> stop{false};
      std::thread canceller([&] {
        unsigned seed = 7 + p;
        while (!stop.load()) {
          std::this_thread::sleep_for(std::chrono::microseconds(rand_r(&seed) % 300));
          if (CancelToken* t = current.load()) NodeLock::cancel(*t);
        }
      });
      unsigned seed = 1 + p;
      uint64_t writes = 0;
      CancelToken tokens[2];  // outlive the canceller's last look; a late cancel may hit the next
      int which = 0;
      auto end = in(400);
      while (Clock::now() < end) {
        CancelToken& token = tokens[which ^= 1];
        token.reset();
        current.store(&token);
        bool w = rand_r(&seed) % 2;
        auto deadline = rand_r(&seed) % 4 == 0 ? in(rand_r(&seed) % 2) : in(5000);
        Status st = w ? lock.write(deadline, &token) : lock.read(deadline, &token);
        current.store(nullptr);
        if (st != Status::kGranted) continue;
        if (w) {
          CHECK(b.inW.fetch_add(1) == 0 && b.inR.load() == 0);
          b.counter = b.counter + 1;
          ++writes;
          b.inW.fetch_sub(1);
          lock.writeRelease();
        } else {
          b.inR.fetch_add(1);
          CHECK(b.inW.load() == 0);
          b.inR.fetch_sub(1);
          lock.readRelease();
        }
      }
      stop.store(true);
      canceller.join();
      auto& st = lock.stats();
      b.ops[p].store(writes);
      b.value[p][0].store(st.cancelReaderBlocked.load());
      b.value[p][1].store(st.cancelWriterQueued.load());
      b.value[p][2].store(st.cancelWriterAtTurn.load());
      b.value[p][3].store(st.cancelAfterGrant.load());
      lock.detach();
    }));
  bool ok = joinAll(pids);
  uint64_t writes = 0, stage[4] = {};
  for (int p = 0; p < procs; ++p) {
    writes += b.ops[p].load();
    for (int k = 0; k < 4; ++k) stage[k] += b.value[p][k].load();
  }
  NodeLock observer = attach(s, procs);
  auto snap = observer.snapshot();
  ok = ok && b.counter == writes && snap.readers == 0 && !snap.writerIn && snap.writersQueued == 0;
  std::printf(
      "  cancel_stress: %llu writes; withdrawn: %llu blocked reads, %llu queued writes, "
      "%llu at turn, %llu after grant\n",
      static_cast<unsigned long long>(writes), static_cast<unsigned long long>(stage[0]),
      static_cast<unsigned long long>(stage[1]), static_cast<unsigned long long>(stage[2]),
      static_cast<unsigned long long>(stage[3]));
  return ok;
}

// A queued writer and a blocked reader are killed (SIGKILL) while asleep on their futexes;
// the holder releases; the writer queued behind them gets the lock: its own timed sleep
// finds the dead slots and withdraws them.
NL_TEST(killed_while_sleeping) {
  Shared s = makeShared();
  Board& b = *s.board;
  std::vector<pid_t> pids, victims;
  pids.push_back(spawn([&] {
    NodeLock lock = attach(s, 0, sleepy());
    CHECK(lock.write() == Status::kGranted);
    b.step.store(1);
    until([&] { return b.step.load() == 2; }, 10000);
    lock.writeRelease();
    lock.detach();
  }));
  victims.push_back(spawn([&] {
    NodeLock lock = attach(s, 1, sleepy());
    until([&] { return b.step.load() == 1; });
    lock.write();
    _exit(3);  // never reached: killed while asleep
  }));
  victims.push_back(spawn([&] {
    NodeLock lock = attach(s, 2, sleepy());
    until([&] { return b.step.load() == 1 && lock.snapshot().writersQueued >= 2; });
    lock.read();
    _exit(3);
  }));
  pids.push_back(spawn([&] {
    Options o = sleepy();
    o.reclaimEveryMs = 50;
    NodeLock lock = attach(s, 3, o);
    until([&] { return b.step.load() == 1 && lock.snapshot().writersQueued == 2; });
    CHECK(lock.write(in(5000)) == Status::kGranted);
    CHECK(lock.stats().reclaimed.load() == 2 && lock.snapshot().readers == 0);
    lock.writeRelease();
    checkClean(lock);
  }));
  NodeLock observer = attach(s, 4);
  // The survivor (slot 3) too: killed before it queued, the victims' tickets could be
  // passed over before it looked, and it would wait for two writers queued forever.
  until(
      [&] {
        return asleep(observer, 1, true) && asleep(observer, 2, false) && asleep(observer, 3, true);
      },
      5000);
  for (pid_t v : victims) kill(v, SIGKILL), waitpid(v, nullptr, 0);
  b.step.store(2);
  return joinAll(pids);
}
