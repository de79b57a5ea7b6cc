// Multi-process scaffolding for the node lock's test and bench: a MAP_SHARED region made
// before fork() (what a POSIX segment or a shared MPI window gives the ranks of one node),
// children that report failures by exit status, a start barrier.
#pragma once
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <thread>
#include <vector>

#include "../node_lock.h"

namespace nltest {

using mpilock::node::Clock;
using mpilock::node::NodeLock;
using mpilock::node::Options;
using mpilock::node::Status;

#define CHECK(cond)                                                                           \
  do {                                                                                        \
    if (!(cond)) {                                                                            \
      std::fprintf(stderr, "pid %d: %s:%d: CHECK(%s) failed\n", getpid(), __FILE__, __LINE__, \
                   #cond);                                                                    \
      std::fflush(stderr);                                                                    \
      _exit(1);                                                                               \
    }                                                                                         \
  } while (0)

constexpr uint32_t kSlots = 8;

// Test-owned shared words next to the lock region.
struct alignas(64) Board {
  std::atomic<uint32_t> ready{0};
  std::atomic<uint32_t> go{0};
  std::atomic<uint32_t> step{0};
  std::atomic<uint32_t> inR{0}, inW{0}, maxR{0};
  std::atomic<uint32_t> writeGrants{0};
  std::atomic<uint32_t> logPos{0};
  uint32_t log[64];
  volatile uint64_t counter;  // changed only under the write lock
  std::atomic<uint64_t> ops[kSlots];
  std::atomic<uint64_t> value[kSlots][4];
  alignas(64) unsigned char scratch[256];  // the bench's probe lock
};

struct Shared {
  Board* board;
  void* region;
  size_t bytes;
};

inline Shared makeShared() {
  size_t bytes = mpilock::node::regionBytes(kSlots);
  size_t total = 4096 * ((sizeof(Board) + bytes + 4095) / 4096 + 1);
  void* p = mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) std::perror("mmap"), std::exit(2);
  std::memset(p, 0, total);
  auto* board = new (p) Board();
  void* region = static_cast<char*>(p) + 4096 * ((sizeof(Board) + 4095) / 4096);
  return {board, region, bytes};
}

inline NodeLock attach(const Shared& s, uint32_t slot, Options o = {}) {
  return NodeLock(s.region, s.bytes, kSlots, slot, o);
}

inline pid_t spawn(const std::function<void()>& body) {
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    body();
    std::fflush(nullptr);
    _exit(0);
  }
  return pid;
}

// True when every child exited 0 within the budget; kills the rest otherwise.
inline bool joinAll(std::vector<pid_t>& pids, int budgetMs = 20000) {
  bool ok = true;
  auto until = Clock::now() + std::chrono::milliseconds(budgetMs);
  for (pid_t pid : pids) {
    int st = 0;
    for (;;) {
      pid_t r = waitpid(pid, &st, WNOHANG);
      if (r == pid) break;
      if (Clock::now() > until) {
        std::fprintf(stderr, "child %d hung: killed\n", pid);
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
        ok = false;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) ok = false;
  }
  pids.clear();
  return ok;
}

// Wait (yielding) for a condition another process makes true; fail after a budget.
template <class F>
inline void until(F cond, int budgetMs = 5000, int line = __builtin_LINE()) {
  auto end = Clock::now() + std::chrono::milliseconds(budgetMs);
  while (!cond()) {
    if (Clock::now() > end) {
      std::fprintf(stderr, "pid %d: waited %d ms in vain (line %d)\n", getpid(), budgetMs, line);
      _exit(1);
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

// A waiter really in FUTEX_WAIT: announced, and its process is asleep (state S in /proc).
inline char procState(uint32_t pid, long tid = 0) {
  char path[96], buf[512];
  if (tid)
    std::snprintf(path, sizeof path, "/proc/%u/task/%ld/stat", pid, tid);
  else
    std::snprintf(path, sizeof path, "/proc/%u/stat", pid);
  FILE* f = std::fopen(path, "r");
  if (!f) return '?';
  size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = 0;
  const char* p = std::strrchr(buf, ')');
  return p && p[1] == ' ' ? p[2] : '?';
}
// tid: the waiting thread, when it is not the process's main thread.
inline bool asleep(const NodeLock& l, uint32_t slot, bool write, long tid = 0) {
  const mpilock::node::Slot& s = l.slotInfo(slot);
  return (write ? s.write : s.read).sleeping.load() && procState(s.pid.load(), tid) == 'S';
}

inline Clock::time_point in(int ms) { return Clock::now() + std::chrono::milliseconds(ms); }

}  // namespace nltest

namespace nltest {

// Each test returns whether every child passed; registered by name for the main.
using TestFn = bool (*)();
inline std::vector<std::pair<const char*, TestFn>>& registry() {
  static std::vector<std::pair<const char*, TestFn>> r;
  return r;
}
struct Register {
  Register(const char* name, TestFn fn) { registry().emplace_back(name, fn); }
};
#define NL_TEST(name)                              \
  static bool name();                              \
  static nltest::Register reg_##name(#name, name); \
  static bool name()

}  // namespace nltest
