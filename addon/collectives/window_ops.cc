#include "collectives/window_ops.h"

namespace mpilock {

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
    // Nobody touches the counters before the master has zeroed them.
    error_ = MPI_Ibarrier(comm_, &request_);
    if (error_ != MPI_SUCCESS) return true;
    stage_ = 2;
  }
  error_ = MPI_Test(&request_, &done, MPI_STATUS_IGNORE);
  if (error_ != MPI_SUCCESS) return true;
  if (!done) return false;
  adopt_(std::make_unique<LockWindow>(comm_, win_, master_, base_, biasedReads_));
  return true;
}

Completion CreateWindowOp::result() {
  return windowStepDone(Completion::Type::kWindowCreated, token_, id_, error_);
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
