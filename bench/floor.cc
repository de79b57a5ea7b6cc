// The floor of the lock workloads in bench/run.mjs: the library's own lock algorithm
// (addon/lock/phase_fair_lock.h) on its own window atomics (addon/lock/window_atomics.h),
// with the same MPI calls (MPI_Win_allocate of kWindowSlots int64 per rank with
// accumulate_ops=same_op_no_op, one MPI_Win_lock_all(MPI_MODE_NOCHECK) epoch,
// MPI_Fetch_and_op + MPI_Win_flush on the master's counters), driven from C++ with busy
// polling: no event loop, no promises, no thread hop, no biased reads (slot kRevokeSlot is
// left unused). Timed exactly like bench/ranks/lock.ts: per workload a warm-up of
// WARMUP_MS, then RUNS runs of RUN_MS each after a barrier; reads and writes of the mixes
// drawn from mulberry32 seeded with SEED + rank, restarted every run.
//
//   mpicxx -O2 -std=c++17 -Iaddon -o build/bench/floor bench/floor.cc
//   mpirun -np N build/bench/floor OUTDIR RUNS RUN_MS WARMUP_MS SEED WORKLOAD [WORKLOAD ...]
//
// Every rank writes OUTDIR/<rank>.json, in the format of bench/ranks/lock.ts (loops mode).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "lock/phase_fair_lock.h"
#include "lock/read_bias.h"
#include "lock/window_atomics.h"

using mpilock::PhaseFairLock;
using mpilock::WindowAtomics;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kMaster = 0;

// mulberry32, as in bench/ranks/lock.ts.
class Mulberry32 {
 public:
  explicit Mulberry32(uint32_t seed) : a_(seed) {}
  double next() {
    a_ += 0x6d2b79f5u;
    uint32_t t = a_;
    t = (t ^ (t >> 15)) * (t | 1u);
    t ^= t + (t ^ (t >> 7)) * (t | 61u);
    return static_cast<double>(t ^ (t >> 14)) / 4294967296.0;
  }

 private:
  uint32_t a_;
};

double writeShare(const std::string& name) {
  if (name == "read-loop") return 0;
  if (name == "write-loop") return 1;
  if (name == "mixed-90-10") return 0.1;
  if (name == "mixed-50-50") return 0.5;
  return -1;
}

struct Run {
  int64_t iterations = 0;
  double meanUs = 0;
};

// Acquire+release pairs with busy polling until `ms` have passed; each pair's time in us
// is appended to `times` (when given).
Run timed(PhaseFairLock<WindowAtomics>& lock, double ms, double share, uint32_t seed,
          std::vector<double>* times) {
  Mulberry32 rng(seed);
  auto start = Clock::now();
  auto until = start + std::chrono::duration<double, std::milli>(ms);
  Run run;
  for (auto t0 = start, t1 = start; t1 < until; t0 = t1, ++run.iterations) {
    bool write = share >= 1 || (share > 0 && rng.next() < share);
    if (write) {
      if (!lock.writeBegin()) {
        while (!lock.writePoll()) {
        }
      }
      lock.writeEnd();
    } else {
      if (!lock.readBegin()) {
        while (!lock.readPoll()) {
        }
      }
      lock.readEnd();
    }
    t1 = Clock::now();
    if (times) times->push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  run.meanUs = std::chrono::duration<double, std::micro>(Clock::now() - start).count() /
               static_cast<double>(run.iterations);
  return run;
}

// Nearest-rank percentile of sorted samples, as in bench/ranks/lock.ts.
double percentile(const std::vector<double>& sorted, double p) {
  double rank = std::ceil(p / 100 * static_cast<double>(sorted.size()));
  return sorted[static_cast<size_t>(std::max(1.0, rank)) - 1];
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, size = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  constexpr int kFirstWorkload = 6;
  if (argc <= kFirstWorkload) {
    if (rank == 0) {
      std::fprintf(stderr, "usage: floor OUTDIR RUNS RUN_MS WARMUP_MS SEED WORKLOAD...\n");
    }
    MPI_Abort(MPI_COMM_WORLD, 2);
  }
  const std::string out = argv[1];
  const int runs = std::atoi(argv[2]);
  const double runMs = std::atof(argv[3]);
  const double warmupMs = std::atof(argv[4]);
  const uint32_t seed = static_cast<uint32_t>(std::atol(argv[5]) + rank);

  // The window exactly as addon/collectives/window_ops.cc makes it.
  MPI_Info info;
  MPI_Info_create(&info);
  MPI_Info_set(info, "accumulate_ops", "same_op_no_op");
  MPI_Info_set(info, "accumulate_ordering", "none");
  int64_t* base = nullptr;
  MPI_Win win;
  MPI_Win_allocate(mpilock::kWindowSlots * sizeof(int64_t), sizeof(int64_t), info, MPI_COMM_WORLD,
                   &base, &win);
  MPI_Info_free(&info);
  for (int i = 0; i < mpilock::kWindowSlots; ++i) base[i] = 0;
  MPI_Win_lock_all(MPI_MODE_NOCHECK, win);
  MPI_Win_sync(win);
  MPI_Barrier(MPI_COMM_WORLD);

  WindowAtomics atomics(win, kMaster);
  PhaseFairLock<WindowAtomics> lock(atomics, rank);

  std::string json = "{\"rank\":" + std::to_string(rank) + ",\"size\":" + std::to_string(size) +
                     ",\"workloads\":[";
  for (int w = kFirstWorkload; w < argc; ++w) {
    const std::string name = argv[w];
    const double share = writeShare(name);
    if (share < 0) {
      if (rank == 0) std::fprintf(stderr, "unknown workload %s\n", name.c_str());
      MPI_Abort(MPI_COMM_WORLD, 2);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    timed(lock, warmupMs, share, seed, nullptr);
    std::vector<double> times;
    std::string iterations, means;
    for (int r = 0; r < runs; ++r) {
      MPI_Barrier(MPI_COMM_WORLD);
      Run run = timed(lock, runMs, share, seed, &times);
      iterations += (r ? "," : "") + std::to_string(run.iterations);
      means += (r ? "," : "") + std::to_string(run.meanUs);
    }
    std::sort(times.begin(), times.end());
    char tail[128];
    std::snprintf(tail, sizeof tail, "],\"iterP50Us\":%.4f,\"iterP99Us\":%.4f}",
                  percentile(times, 50), percentile(times, 99));
    json += (w > kFirstWorkload ? ",{\"name\":\"" : "{\"name\":\"") + name + "\",\"iterations\":[" +
            iterations + "],\"runsUs\":[" + means + tail;
  }
  json += "]}\n";

  MPI_Barrier(MPI_COMM_WORLD);
  MPI_Win_unlock_all(win);
  MPI_Win_free(&win);
  MPI_Finalize();

  const std::string path = out + "/" + std::to_string(rank) + ".json";
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (!f || std::fputs(json.c_str(), f) < 0 || std::fclose(f) != 0) {
    std::perror(path.c_str());
    return 1;
  }
  return 0;
}
