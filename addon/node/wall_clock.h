// The wall clock as an offset to CLOCK_MONOTONIC, read in one place so that every process
// of a machine gets the same answer (to a few hundred nanoseconds): event times of
// different ranks can then be compared directly. Node's performance.timeOrigin is read
// at each process's start-up and disagrees between processes by up to ~0.5 ms.
#pragma once
#include <time.h>

namespace mpilock {

/** CLOCK_REALTIME minus CLOCK_MONOTONIC, in milliseconds: the tightest of a few readings. */
inline double wallClockOffsetMs() {
  auto ms = [](const timespec& t) { return t.tv_sec * 1e3 + t.tv_nsec / 1e6; };
  double best = 0, bestGap = 1e300;
  for (int i = 0; i < 5; ++i) {
    timespec before{}, wall{}, after{};
    clock_gettime(CLOCK_MONOTONIC, &before);
    clock_gettime(CLOCK_REALTIME, &wall);
    clock_gettime(CLOCK_MONOTONIC, &after);
    double gap = ms(after) - ms(before);
    if (gap < bestGap) {
      bestGap = gap;
      best = ms(wall) - (ms(before) + ms(after)) / 2;
    }
  }
  return best;
}

}  // namespace mpilock
