// The node lock driven in steps, as the runtime drives it: begin and poll on one thread,
// the rest of the wait on another (handed over), withdrawals of pending requests, tries that
// back out, and the write-to-read downgrade; all against the same exclusion checks.
#include "harness.h"

using namespace nltest;
using mpilock::node::Step;

namespace {

// Checks what a holder sees: writers alone, readers never beside a writer.
struct Holding {
  Board& b;
  void write() {
    CHECK(b.inW.fetch_add(1) == 0 && b.inR.load() == 0);
    uint64_t c = b.counter;
    b.counter = c + 1;
    b.inW.fetch_sub(1);
  }
  void read() {
    b.inR.fetch_add(1);
    CHECK(b.inW.load() == 0);
    b.inR.fetch_sub(1);
  }
};

// Polls a few times (yielding), then hands the rest of the wait to a second thread.
template <class Poll, class Await>
Status driven(Poll poll, Await wait, int polls) {
  for (int i = 0; i < polls; ++i) {
    if (poll() == Step::kGranted) return Status::kGranted;
    sched_yield();
  }
  Status st = Status::kTimedOut;
  std::thread waiter([&] { st = wait(); });
  waiter.join();
  return st;
}

bool stepsMixed(bool biased) {
  Shared s = makeShared();
  const int procs = 4, ops = 20000;
  std::vector<pid_t> pids;
  for (int p = 0; p < procs; ++p)
    pids.push_back(spawn([&, p] {
      Options o;
      o.biased = biased;
      NodeLock lock = attach(s, p, o);
      Holding h{*s.board};
      uint64_t writes = 0;
      s.board->ready.fetch_add(1);  // start together: the point is contention
      until([&] { return s.board->ready.load() == procs; });
      auto never = Clock::time_point::max();
      for (int k = 0; k < ops; ++k) {
        switch ((k * 7 + p) % 6) {
          case 0:  // write, polled then awaited on another thread
            if (lock.beginWrite() != Step::kGranted) {
              auto poll = [&] { return lock.pollWrite(); };
              bool head = k % 8 < 4;  // half of them sleep until next in line, then poll
              Status st = driven(
                  poll, [&] { return lock.awaitWrite(never, nullptr, head); }, k % 4);
              if (st == Status::kHead)
                st = driven(
                    poll, [&] { return lock.awaitWrite(never, nullptr); }, 50);
              CHECK(st == Status::kGranted);
            }
            h.write(), ++writes;
            lock.writeRelease();
            break;
          case 1:  // read, the same way
            if (lock.beginRead() != Step::kGranted)
              CHECK(driven([&] { return lock.pollRead(); },
                           [&] { return lock.awaitRead(never, nullptr); },
                           k % 3) == Status::kGranted);
            h.read();
            lock.readRelease();
            break;
          case 2:  // write, then downgraded to a read with no gap
            CHECK(lock.write() == Status::kGranted);
            h.write(), ++writes;
            s.board->inR.fetch_add(1);
            lock.writeDowngrade();
            CHECK(s.board->inW.load() == 0);
            s.board->inR.fetch_sub(1);
            lock.readRelease();
            break;
          case 3:  // tries
            if (lock.tryWrite()) {
              h.write(), ++writes;
              lock.writeRelease();
            }
            if (lock.tryRead()) {
              h.read();
              lock.readRelease();
            }
            break;
          case 4:  // begun, then withdrawn while still pending
            if (lock.beginWrite() == Step::kGranted) {
              h.write(), ++writes;
              lock.writeRelease();
            } else if (k % 2 == 0 || lock.pollWrite() != Step::kGranted) {
              lock.withdrawWrite();
            } else {
              h.write(), ++writes;
              lock.writeRelease();
            }
            break;
          default:
            if (lock.beginRead() == Step::kGranted || lock.pollRead() == Step::kGranted) {
              h.read();
              lock.readRelease();
            } else {
              lock.withdrawRead();
            }
        }
      }
      s.board->ops[p].store(writes);
      lock.detach();
    }));
  bool ok = joinAll(pids, 60000);
  uint64_t writes = 0;
  for (int p = 0; p < procs; ++p) writes += s.board->ops[p].load();
  if (s.board->counter != writes) {
    std::fprintf(stderr, "lost updates: counter %llu, writes %llu\n",
                 static_cast<unsigned long long>(s.board->counter),
                 static_cast<unsigned long long>(writes));
    ok = false;
  }
  // Everything released: a fresh writer gets in at once.
  NodeLock last = attach(s, kSlots - 1);
  if (!last.tryWrite()) std::fprintf(stderr, "the lock was left taken\n"), ok = false;
  return ok;
}

// A try never waits and never leaves a trace: busy while another slot holds, free after.
bool triesBackOut() {
  Shared s = makeShared();
  NodeLock a = attach(s, 0), b = attach(s, 1);
  CHECK(a.tryWrite());
  CHECK(!b.tryWrite() && !b.tryRead());
  a.writeRelease();
  CHECK(b.tryRead());
  CHECK(!a.tryWrite());  // b reads
  b.readRelease();       // cached (biased): a writer takes it back
  CHECK(a.tryWrite());
  a.writeRelease();
  CHECK(b.tryRead() && a.tryRead());
  b.readRelease(), a.readRelease();
  auto snap = a.snapshot();
  CHECK(snap.writersQueued == 0 && !snap.writerIn);
  return true;
}

// A writer kHeadDepth + 1 places back sleeps until the writer kHeadDepth places ahead of it
// has its turn, then hears kHead (still pending, in place) while the writers ahead hold;
// its grant comes in turn. One that did not ask (untilHead false) is woken at its turn only.
bool headWakeUp() {
  static_assert(mpilock::node::kHeadDepth == 2, "the test lines up 4 writers");
  Shared s = makeShared();
  NodeLock a = attach(s, 0), b = attach(s, 1), c = attach(s, 2), d = attach(s, 3);
  CHECK(a.write() == Status::kGranted);
  CHECK(b.beginWrite() == Step::kWaiting && b.writersAhead() == 1);
  CHECK(c.beginWrite() == Step::kWaiting && c.writersAhead() == 2);
  CHECK(d.beginWrite() == Step::kWaiting && d.writersAhead() == 3);
  // c is within the depth already: its untilHead wait returns at once.
  CHECK(c.awaitWrite(Clock::time_point::max(), nullptr, true) == Status::kHead);
  std::atomic<int> dStatus{-1};
  std::thread waiter(
      [&] { dStatus = static_cast<int>(d.awaitWrite(Clock::time_point::max(), nullptr, true)); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(dStatus.load() == -1);  // a holds: d is three places back
  a.writeRelease();
  until([&] { return b.pollWrite() == Step::kGranted; });
  until([&] { return dStatus.load() != -1; }, 2000);  // b's turn woke d
  waiter.join();
  CHECK(dStatus.load() == static_cast<int>(Status::kHead));
  CHECK(d.writersAhead() == 2 && d.pollWrite() == Step::kWaiting);  // b holds, c waits
  b.writeRelease();
  CHECK(c.pollWrite() == Step::kGranted && d.pollWrite() == Step::kWaiting);
  c.writeRelease();
  CHECK(d.pollWrite() == Step::kGranted);
  d.writeRelease();
  // Not asked for: no head wake-up.
  CHECK(a.write() == Status::kGranted);
  CHECK(b.beginWrite() == Step::kWaiting && c.beginWrite() == Step::kWaiting);
  CHECK(d.beginWrite() == Step::kWaiting);
  std::atomic<int> dPlain{-1};
  std::thread plain(
      [&] { dPlain = static_cast<int>(d.awaitWrite(Clock::time_point::max(), nullptr)); });
  a.writeRelease();
  until([&] { return b.pollWrite() == Step::kGranted; });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(dPlain.load() == -1);
  b.writeRelease();
  until([&] { return c.pollWrite() == Step::kGranted; });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(dPlain.load() == -1);
  c.writeRelease();
  plain.join();
  CHECK(dPlain.load() == static_cast<int>(Status::kGranted));
  d.writeRelease();
  return true;
}

}  // namespace

NL_TEST(head_wake_up) { return headWakeUp(); }
NL_TEST(steps_mixed_biased) { return stepsMixed(true); }
NL_TEST(steps_mixed_unbiased) { return stepsMixed(false); }
NL_TEST(tries_back_out) { return triesBackOut(); }
