// How the node lock wakes a request asleep in a rank's event loop (node_level.h, LOOP WAKE):
// one FIFO per rank for a whole lock table, in /dev/shm beside the table's segment, opened
// for writing by every other rank of the node. The node lock's releaser writes a byte into
// the FIFO of the slot whose turn it is; libuv watches the read end (node/loop_wake.h), and
// the woken thread polls the entries listed as asleep here.
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace mpilock {

class NodeLevel;

class WakeChannel {
 public:
  WakeChannel(std::string segment, uint32_t slots, uint32_t slot);
  ~WakeChannel();
  // Set-up, collectively on the node (collectives/window_ops.cc), in this order:
  // Where one fails, the waits of this table sleep on waiter threads instead (on every rank).
  bool make();                        // this slot's FIFO, opened for reading
  bool openPeers();                   // every other slot's, once all were made
  void finish(bool everyRankOpened);  // unlinks this slot's; keeps it only if all did
  bool ready() const { return ready_; }
  int fd() const { return fd_; }

  // node::NodeLock's loop waker: wakes the rank of `slot` (never blocks).
  static void wake(void* self, uint32_t slot);
  // Wakes every other rank of the node to look again at what its toolkit waits on (a
  // semaphore's permits, a turn): they poll it, and would otherwise notice within 2 ms.
  void nudgeAll();
  bool drain();  // reads the wake-ups that made the FIFO readable; true if one was a nudge

  // The entries with a request asleep in this rank's event loop (any thread).
  void enlist(const std::weak_ptr<NodeLevel>& level);
  std::vector<std::shared_ptr<NodeLevel>> sleepers();  // drops the entries gone or awake

 private:
  std::string path(uint32_t slot) const;
  std::string segment_;
  uint32_t slot_;
  int fd_ = -1;
  std::vector<int> peers_;  // write ends by slot (-1: none, or this slot)
  bool ready_ = false;
  std::mutex m_;
  std::vector<std::weak_ptr<NodeLevel>> asleep_;
};

}  // namespace mpilock
