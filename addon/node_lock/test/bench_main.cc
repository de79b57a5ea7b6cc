// Micro-benchmark of the node lock: N forked processes each loop acquire+release on one
// shared region for a fixed time; prints µs per pair per process (the mean over processes
// and the slowest), futex sleeps per pair, and a cell of design.md's futex probe to compare.
//   node_lock_bench [--ms=300] [--procs=2,4,6] [--modes=write,probe-write,read,read-unbiased]
//                   [--spin=2000] (the lock's Options::spinChecks)
#include <linux/futex.h>
#include <sys/syscall.h>

#include <climits>
#include <cstring>
#include <new>
#include <string>

#include "harness.h"

using namespace nltest;

namespace {

// design.md's throwaway probe, rebuilt for a same-run comparison: a FIFO ticket lock whose
// waiters check the turn up to 2,000 times (sched_yield every 16), then FUTEX_WAIT on it;
// the releaser bumps the turn and wakes all sleepers only when someone sleeps.
struct Probe {
  std::atomic<uint32_t> next{0};
  alignas(64) std::atomic<uint32_t> serving{0};
  alignas(64) std::atomic<uint32_t> sleepers{0};
  void lock(uint64_t& sleeps) {
    uint32_t t = next.fetch_add(1);
    for (int i = 0; i < 2000; ++i) {
      if (serving.load() == t) return;
      if ((i + 1) % 16 == 0) sched_yield();
    }
    for (;;) {
      sleepers.fetch_add(1);
      uint32_t v = serving.load();
      if (v == t) {
        sleepers.fetch_sub(1);
        return;
      }
      ++sleeps;
      syscall(SYS_futex, reinterpret_cast<uint32_t*>(&serving), FUTEX_WAIT, v, nullptr, nullptr, 0);
      sleepers.fetch_sub(1);
    }
  }
  void unlock() {
    serving.fetch_add(1);
    if (sleepers.load())
      syscall(SYS_futex, reinterpret_cast<uint32_t*>(&serving), FUTEX_WAKE, INT32_MAX, nullptr,
              nullptr, 0);
  }
};

struct Cell {
  double meanUs, slowestUs, sleepsPerPair, cachedShare;
};

uint32_t spinChecks = Options{}.spinChecks;

Cell run(int procs, const std::string& mode, int ms) {
  Shared s = makeShared();
  Board& b = *s.board;
  Probe* probeLock = new (b.scratch) Probe();  // before fork: shared by the children
  std::vector<pid_t> pids;
  for (int p = 0; p < procs; ++p)
    pids.push_back(spawn([&, p] {
      Options o;
      o.biased = mode != "read-unbiased";
      o.spinChecks = spinChecks;
      NodeLock lock = attach(s, p, o);
      bool write = mode == "write", probe = mode == "probe-write";
      auto* pr = probeLock;
      uint64_t probeSleeps = 0;
      b.ready.fetch_add(1);
      until([&] { return b.go.load() == 1; }, 10000);
      auto t0 = Clock::now();
      auto end = t0 + std::chrono::milliseconds(ms);
      uint64_t n = 0;
      while ((n & 63) != 0 || Clock::now() < end) {
        if (probe) {
          pr->lock(probeSleeps);
          pr->unlock();
        } else if (write) {
          CHECK(lock.write() == Status::kGranted);
          lock.writeRelease();
        } else {
          CHECK(lock.read() == Status::kGranted);
          lock.readRelease();
        }
        ++n;
      }
      double us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
      b.ops[p].store(n);
      b.value[p][0].store(static_cast<uint64_t>(us * 1000));
      b.value[p][1].store(lock.stats().sleeps.load() + probeSleeps);
      b.value[p][2].store(lock.stats().cachedReads.load());
      lock.detach();
    }));
  until([&] { return b.ready.load() == static_cast<uint32_t>(procs); }, 10000);
  b.go.store(1);
  if (!joinAll(pids, ms + 20000)) std::exit(1);
  Cell c{0, 0, 0, 0};
  uint64_t ops = 0, sleeps = 0, cached = 0;
  for (int p = 0; p < procs; ++p) {
    double us = b.value[p][0].load() / 1000.0 / b.ops[p].load();
    c.meanUs += us / procs;
    c.slowestUs = std::max(c.slowestUs, us);
    ops += b.ops[p].load();
    sleeps += b.value[p][1].load();
    cached += b.value[p][2].load();
  }
  c.sleepsPerPair = static_cast<double>(sleeps) / ops;
  c.cachedShare = static_cast<double>(cached) / ops;
  return c;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  size_t a = 0;
  for (size_t b; (b = s.find(',', a)) != std::string::npos; a = b + 1)
    out.push_back(s.substr(a, b - a));
  out.push_back(s.substr(a));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  int ms = 300;
  std::string procs = "2,4,6", modes = "write,probe-write,read,read-unbiased";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--ms=", 0) == 0) ms = std::stoi(a.substr(5));
    if (a.rfind("--procs=", 0) == 0) procs = a.substr(8);
    if (a.rfind("--modes=", 0) == 0) modes = a.substr(8);
    if (a.rfind("--spin=", 0) == 0) spinChecks = static_cast<uint32_t>(std::stoul(a.substr(7)));
  }
  // design.md's probe (a futex ticket lock, write pairs), for comparison.
  auto probe = [](int n, const std::string& m) -> std::string {
    if (m != "write" && m != "probe-write") return "";
    if (n == 4) return "3.3-4.7";
    if (n == 6) return "9-10.6";
    return "";
  };
  std::printf("%-6s %-14s %12s %12s %12s %9s %10s\n", "procs", "mode", "us/pair mean",
              "us/pair max", "sleeps/pair", "cached", "probe us");
  for (const std::string& p : split(procs))
    for (const std::string& m : split(modes)) {
      int n = std::stoi(p);
      Cell c = run(n, m, ms);
      std::printf("%-6d %-14s %12.3f %12.3f %12.4f %8.0f%% %10s\n", n, m.c_str(), c.meanUs,
                  c.slowestUs, c.sleepsPerPair, 100 * c.cachedShare, probe(n, m).c_str());
      std::fflush(stdout);
    }
  return 0;
}
