// Creating and freeing a controller's window: collective over the communicator the
// controller was made from (create) or its own duplicate of it (free), driven without
// blocking waits.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "collectives/collective_ops.h"
#include "lock/lock_table.h"

namespace mpilock {

// What one rank made of a lock table's collective creation (lock/lock_table.h): the window,
// its communicator, one LockWindow per entry, and one node lock per entry when every rank is
// on one node and each mapped the node's segment (none: the global lock alone serves).
struct TableParts {
  MPI_Comm comm = MPI_COMM_NULL;
  MPI_Win win = MPI_WIN_NULL;
  std::vector<std::unique_ptr<LockWindow>> locks;
  std::vector<std::unique_ptr<NodeLevel>> levels;  // empty, or one per entry
  std::string why;                                 // why no node lock ("" when none was asked)
};

// Makes a table of `count` locks (ids id .. id + count - 1 for JavaScript) in one collective.
class CreateWindowOp : public CollectiveOp {
 public:
  using Adopt = std::function<void(TableParts)>;
  CreateWindowOp(uint32_t token, int32_t id, int count, MPI_Comm parent, int master,
                 bool biasedReads, bool nodeLock, bool loopWake, Adopt adopt)
      : token_(token),
        id_(id),
        count_(count),
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
  int count_;
  MPI_Comm parent_;  // duplicated: the controller's communicator is its own
  int master_;
  bool biasedReads_;
  bool nodeLock_;
  bool loopWake_;
  Adopt adopt_;
  void planNodeLock(int rank, int size);  // blocking, right after the window's allocation
  bool adoptTable();                      // the last step: hands the table over; true
  std::vector<std::unique_ptr<NodeLevel>> levels_;
  std::shared_ptr<WakeChannel> channel_;  // the loop wake's FIFOs, while being set up
  std::string why_;
  // Votes (MIN): mapped, pid namespace (min, -max), entries (min, -max), wake FIFO made;
  // then: every other rank's FIFO opened.
  int64_t votes_[6] = {0, 0, 0, 0, 0, 0}, agreed_[6] = {0, 0, 0, 0, 0, 0};
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

// Frees a whole table: `locks` are its entries, entry 0 first (its comm and win are the
// table's).
class FreeWindowOp : public CollectiveOp {
 public:
  FreeWindowOp(uint32_t token, int32_t id, std::vector<LockWindow*> locks,
               std::function<void()> forget)
      : token_(token), id_(id), locks_(std::move(locks)), forget_(std::move(forget)) {}
  bool step() override;
  Completion result() override;

 private:
  uint32_t token_;
  int32_t id_;
  std::vector<LockWindow*> locks_;
  std::function<void()> forget_;
  int stage_ = 0;
  int64_t vote_[2] = {0, 0}, votes_[2] = {0, 0};
  MPI_Request request_ = MPI_REQUEST_NULL;
  int error_ = MPI_SUCCESS;
};

}  // namespace mpilock
