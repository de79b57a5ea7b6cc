// Creating and freeing a controller's window: collective over the communicator the
// controller was made from (create) or its own duplicate of it (free), driven without
// blocking waits.
#pragma once
#include <functional>
#include <memory>

#include "collectives/collective_ops.h"
#include "lock/lock_window.h"
#include "lock/node_level.h"

namespace mpilock {

// What the window's ranks agreed on for a node lock (node_level.h): made when every rank
// of the communicator is on one node and each mapped the node's segment.
struct NodePlan {
  std::unique_ptr<NodeLevel> level;  // null: the global lock alone serves
  std::string why;                   // why there is none ("" when none was asked for)
};

class CreateWindowOp : public CollectiveOp {
 public:
  using Adopt = std::function<void(std::unique_ptr<LockWindow>, NodePlan)>;
  CreateWindowOp(uint32_t token, int32_t id, MPI_Comm parent, int master, bool biasedReads,
                 bool nodeLock, bool loopWake, Adopt adopt)
      : token_(token),
        id_(id),
        parent_(parent),
        master_(master),
        biasedReads_(biasedReads),
        nodeLock_(nodeLock),
        loopWake_(loopWake),
        adopt_(std::move(adopt)) {}
  bool step() override;
  Completion result() override;

 private:
  uint32_t token_;
  int32_t id_;
  MPI_Comm parent_;  // duplicated: the controller's communicator is its own
  int master_;
  bool biasedReads_;
  bool nodeLock_;
  bool loopWake_;
  Adopt adopt_;
  void planNodeLock(int rank, int size);  // blocking, right after the window's allocation
  bool adoptWindow();                     // the last step: hands the window over; true
  NodePlan plan_;
  // mapped, pid namespace (min, -max), wake FIFO made; then: every peer's FIFO opened
  int64_t votes_[4] = {0, 0, 0, 0}, agreed_[4] = {0, 0, 0, 0};
  int64_t opened_ = 0, allOpened_ = 0;
  int stage_ = 0;
  MPI_Comm comm_ = MPI_COMM_NULL;
  MPI_Win win_ = MPI_WIN_NULL;
  int64_t* base_ = nullptr;
  MPI_Request request_ = MPI_REQUEST_NULL;
  int error_ = MPI_SUCCESS;
};

// Waits until no lock request of this rank is in flight on the window, meets the other
// ranks, then ends the access epoch and frees the window and its communicator.
// What a closing rank votes in the agree() that starts a window free, plus its rank: far
// below any vote of singleWrite() (lib/fence/fence-vote.ts, Vote.Closing, must match).
constexpr int64_t kClosingVote = -(int64_t{1} << 40);

class FreeWindowOp : public CollectiveOp {
 public:
  FreeWindowOp(uint32_t token, int32_t id, LockWindow& window, std::function<void()> forget)
      : token_(token), id_(id), window_(window), forget_(std::move(forget)) {}
  bool step() override;
  Completion result() override;

 private:
  uint32_t token_;
  int32_t id_;
  LockWindow& window_;
  std::function<void()> forget_;
  int stage_ = 0;
  int64_t vote_[2] = {0, 0}, votes_[2] = {0, 0};
  MPI_Request request_ = MPI_REQUEST_NULL;
  int error_ = MPI_SUCCESS;
};

}  // namespace mpilock
