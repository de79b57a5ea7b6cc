#include "collectives/window_ops.h"

#include <sys/stat.h>

#include <cstring>

namespace mpilock {

namespace {
// The pid namespace of this process (its inode), 0 when /proc does not say.
int64_t pidNamespace() {
  struct stat st {};
  return stat("/proc/self/ns/pid", &st) == 0 ? static_cast<int64_t>(st.st_ino) : 0;
}
}  // namespace

// Every rank takes part in both collectives below whatever it decides: the node's first rank
// makes the segment, the others map it, and the vote in step() decides for all of them.
void CreateWindowOp::planNodeLock(int rank, int size) {
  MPI_Comm node = MPI_COMM_NULL;
  if (MPI_Comm_split_type(comm_, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node) != MPI_SUCCESS) {
    plan_.why = "MPI_Comm_split_type failed";
    return;
  }
  int nodeSize = 0, nodeRank = 0;
  MPI_Comm_size(node, &nodeSize);
  MPI_Comm_rank(node, &nodeRank);
  if (nodeSize != size) {
    plan_.why = "the ranks are on more than one node";
    MPI_Comm_free(&node);
    return;
  }
  if (!node::kHasFutex && nodeLock_) {  // the same answer on every rank of the node
    plan_.why = "no futex on this system (the node lock needs Linux)";
    MPI_Comm_free(&node);
    return;
  }
  size_t bytes = (node::regionBytes(static_cast<uint32_t>(size)) + 4095) & ~size_t{4095};
  char name[64] = {0};
  std::string error;
  std::unique_ptr<NodeSegment> created;
  if (nodeRank == 0 && nodeLock_) {
    created = NodeSegment::create(bytes, error);
    if (created) std::snprintf(name, sizeof name, "%s", created->name().c_str());
  }
  MPI_Bcast(name, sizeof name, MPI_CHAR, 0, node);
  MPI_Comm_free(&node);
  std::unique_ptr<NodeSegment> segment = std::move(created);
  if (nodeRank != 0 && nodeLock_ && name[0] != 0) segment = NodeSegment::open(name, bytes, error);
  if (!segment) {
    plan_.why = nodeLock_ ? "no shared memory: " + error : "";
    return;
  }
  try {  // slot == rank: split with the rank as key
    plan_.level = std::make_unique<NodeLevel>(std::move(segment), static_cast<uint32_t>(size),
                                              static_cast<uint32_t>(nodeRank), node::Options{});
  } catch (const std::exception& e) {
    plan_.why = e.what();
  }
}

bool CreateWindowOp::step() {
  int done = 0;
  if (stage_ == 0) {
    error_ = MPI_Comm_idup(parent_, &comm_, &request_);
    if (error_ != MPI_SUCCESS) return true;
    stage_ = 1;
  }
  if (stage_ == 1) {
    error_ = MPI_Test(&request_, &done, MPI_STATUS_IGNORE);
    if (error_ != MPI_SUCCESS) return true;
    if (!done || !myTurn()) return false;
    MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
    int rank = 0;
    MPI_Comm_rank(comm_, &rank);
    // Only SUM and NO_OP are used: implementations may then use hardware atomics.
    MPI_Info info;
    MPI_Info_create(&info);
    MPI_Info_set(info, "accumulate_ops", "same_op_no_op");
    MPI_Info_set(info, "accumulate_ordering", "none");
    // Every rank has its revocation slot; the master also has the lock counters.
    MPI_Aint bytes = kWindowSlots * sizeof(int64_t);
    // Blocking, but every rank reaches it right after the same idup completed.
    error_ = MPI_Win_allocate(bytes, sizeof(int64_t), info, comm_, &base_, &win_);
    MPI_Info_free(&info);
    if (error_ != MPI_SUCCESS) return true;
    for (int i = 0; i < kWindowSlots; ++i) base_[i] = 0;
    MPI_Win_lock_all(MPI_MODE_NOCHECK, win_);
    MPI_Win_sync(win_);
    int size = 1;
    MPI_Comm_size(comm_, &size);
    planNodeLock(rank, size);
    int64_t pidns = pidNamespace();
    votes_[0] = plan_.level ? 1 : 0;
    votes_[1] = pidns;
    votes_[2] = -pidns;
    std::string ignored;  // without the FIFOs, the node lock's waiter threads sleep instead
    votes_[3] = loopWake_ && plan_.level && plan_.level->makeWakeFifo(ignored) ? 1 : 0;
    // Nobody touches the counters before the master has zeroed them, nor the node lock
    // before every rank mapped it; and all of them use it or none.
    error_ = MPI_Iallreduce(votes_, agreed_, 4, MPI_INT64_T, MPI_MIN, comm_, &request_);
    if (error_ != MPI_SUCCESS) return true;
    stage_ = 2;
  }
  if (stage_ == 2) {
    error_ = MPI_Test(&request_, &done, MPI_STATUS_IGNORE);
    if (error_ != MPI_SUCCESS) return true;
    if (!done) return false;
    if (agreed_[0] != 1 || agreed_[3] != 1) return adoptWindow();
    // Every FIFO exists now: open the others', and use them only if every rank could.
    std::string ignored;
    opened_ = plan_.level->openPeerFifos(ignored) ? 1 : 0;
    error_ = MPI_Iallreduce(&opened_, &allOpened_, 1, MPI_INT64_T, MPI_MIN, comm_, &request_);
    if (error_ != MPI_SUCCESS) return true;
    stage_ = 3;
  }
  error_ = MPI_Test(&request_, &done, MPI_STATUS_IGNORE);
  if (error_ != MPI_SUCCESS) return true;
  if (!done) return false;
  plan_.level->finishLoopWake(allOpened_ == 1);
  return adoptWindow();
}

bool CreateWindowOp::adoptWindow() {
  if (plan_.level && (agreed_[0] != 1 || agreed_[3] != 1)) plan_.level->finishLoopWake(false);
  if (agreed_[0] == 1) {
    plan_.level->segmentMapped();  // by every rank: unlink it
    // Dead slots are told by pid: only where every rank sees the same pids.
    if (agreed_[1] != -agreed_[2] || agreed_[1] == 0) plan_.level->noReclaim();
  } else {
    if (plan_.level) plan_.why = "another rank could not map the node's shared memory";
    plan_.level.reset();
  }
  NodePlan plan;
  plan.level = std::move(plan_.level);
  adopt_(std::make_unique<LockWindow>(comm_, win_, master_, base_, biasedReads_), std::move(plan));
  return true;
}

Completion CreateWindowOp::result() {
  Completion c = windowStepDone(Completion::Type::kWindowCreated, token_, id_, error_);
  c.low = agreed_[0] == 1 ? 1 : 0;  // the node lock serves this window
  if (c.type == Completion::Type::kWindowCreated && c.low == 0) c.text = plan_.why;
  return c;
}

bool FreeWindowOp::step() {
  int done = 0;
  if (stage_ == 0) {
    // JavaScript released its claims before closing: what is still held here is a grant
    // that raced with its withdrawal. Release it, and wait for withdrawals to finish.
    window_.releaseEverything();
    if (window_.busy()) return false;
    // Shaped like an agree() (AgreeOp): a rank that skipped a collective of the others
    // and closes meets their agree, which then sees the closing vote, instead of MPI
    // matching a barrier with a reduction (MPI_ERR_TRUNCATE, a hang or a crash). The
    // window is freed once every rank voted to close; until then, vote again.
    int rank = 0;
    MPI_Comm_rank(window_.comm(), &rank);
    vote_[0] = kClosingVote + rank;
    vote_[1] = -vote_[0];
    error_ = MPI_Iallreduce(vote_, votes_, 2, MPI_INT64_T, MPI_MAX, window_.comm(), &request_);
    if (error_ != MPI_SUCCESS) return true;
    stage_ = 1;
  }
  if (stage_ == 1) {
    error_ = MPI_Test(&request_, &done, MPI_STATUS_IGNORE);
    if (error_ != MPI_SUCCESS) return true;
    if (!done) return false;
    int size = 1;
    MPI_Comm_size(window_.comm(), &size);
    // The highest vote is a closing one only when every rank voted to close.
    if (votes_[0] >= kClosingVote + size) {
      stage_ = 0;
      return false;
    }
    stage_ = 2;
  }
  if (!myTurn()) return false;
  MPI_Win win = window_.win();
  MPI_Comm comm = window_.comm();
  MPI_Win_unlock_all(win);
  MPI_Win_free(&win);
  MPI_Comm_free(&comm);
  forget_();
  return true;
}

Completion FreeWindowOp::result() {
  return windowStepDone(Completion::Type::kWindowFreed, token_, id_, error_);
}

}  // namespace mpilock
