// The JavaScript thread's side of the node lock's loop wake (lock/node_level.h, LOOP WAKE):
// libuv watches a table's wake-up FIFO (lock/wake_channel.h), and when it is readable the
// requests asleep there are polled and their completions delivered right away, on this
// thread, with no thread-safe function in between. A timer withdraws dead ranks' requests
// now and then while one sleeps (a waiter thread's timed futex wait does that where there
// is none).
#pragma once
#include <napi.h>

#include <functional>
#include <memory>

#include "lock/node_level.h"

namespace mpilock {

class LoopWake {
 public:
  using Deliver = std::function<void(Napi::Env, CompletionBatch*)>;
  // Window `window` (an entry of a table) is served by `level`: false when its waits sleep
  // on waiter threads instead (no channel). Every entry of a table shares one watcher.
  static bool watch(Napi::Env env, int32_t window, const std::shared_ptr<NodeLevel>& level,
                    Deliver deliver);
  static void unwatch(int32_t window);  // the window was freed
  // Wakes the other ranks of `level`'s node to re-check their toolkit waits (kNudge).
  static bool nudge(const std::shared_ptr<NodeLevel>& level);
};

}  // namespace mpilock
