// Runs the node lock's multi-process tests: all, or those named on the command line.
// Prints "ok <name> (<ms> ms)" or "FAIL <name>"; exit status 1 when any failed.
#include <cstring>

#include "harness.h"

int main(int argc, char** argv) {
  int failed = 0, ran = 0;
  for (auto& [name, fn] : nltest::registry()) {
    bool wanted = argc < 2;
    for (int i = 1; i < argc; ++i) wanted = wanted || std::strcmp(argv[i], name) == 0;
    if (!wanted) continue;
    ++ran;
    auto t0 = nltest::Clock::now();
    bool ok = fn();
    double ms = std::chrono::duration<double, std::milli>(nltest::Clock::now() - t0).count();
    std::printf("%s %s (%.0f ms)\n", ok ? "ok" : "FAIL", name, ms);
    std::fflush(stdout);
    if (!ok) ++failed;
  }
  if (ran == 0) std::fprintf(stderr, "no test matched\n");
  return failed || ran == 0 ? 1 : 0;
}
