#include "toolkit/slot_window.h"

namespace mpilock {

bool CreateSlotsOp::step() {
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
    MPI_Comm_rank(comm_, &rank_);
    MPI_Info info;
    MPI_Info_create(&info);
    MPI_Info_set(info, "accumulate_ops", "same_op_no_op");
    MPI_Info_set(info, "accumulate_ordering", "none");
    int64_t* base = nullptr;
    MPI_Aint bytes = rank_ == root_ ? static_cast<MPI_Aint>(count_) * sizeof(int64_t) : 0;
    // Blocking, but every rank reaches it right after the same idup completed.
    error_ = MPI_Win_allocate(bytes, sizeof(int64_t), info, comm_, &base, &win_);
    MPI_Info_free(&info);
    if (error_ != MPI_SUCCESS) return true;
    if (rank_ == root_) {
      for (int i = 0; i < count_; ++i) base[i] = 0;
    }
    MPI_Win_lock_all(MPI_MODE_NOCHECK, win_);
    MPI_Win_sync(win_);
    error_ = MPI_Ibarrier(comm_, &request_);
    if (error_ != MPI_SUCCESS) return true;
    stage_ = 2;
  }
  error_ = MPI_Test(&request_, &done, MPI_STATUS_IGNORE);
  if (error_ != MPI_SUCCESS) return true;
  if (!done) return false;
  windows_.adopt(id_, std::make_unique<SlotWindow>(comm_, win_, root_, rank_));
  return true;
}

Completion CreateSlotsOp::result() {
  return windowStepDone(Completion::Type::kSlotsCreated, token_, id_, error_);
}

bool FreeSlotsOp::step() {
  SlotWindow* w = windows_.find(id_);
  if (w == nullptr) return true;  // freed already (at shutdown)
  int done = 0;
  if (stage_ == 0) {
    error_ = MPI_Ibarrier(w->comm(), &request_);
    if (error_ != MPI_SUCCESS) return true;
    stage_ = 1;
  }
  if (stage_ == 1) {
    error_ = MPI_Test(&request_, &done, MPI_STATUS_IGNORE);
    if (error_ != MPI_SUCCESS) return true;
    if (!done) return false;
    stage_ = 2;
  }
  if (!myTurn()) return false;
  MPI_Win win = w->win();
  MPI_Comm comm = w->comm();
  MPI_Win_unlock_all(win);
  MPI_Win_free(&win);
  MPI_Comm_free(&comm);
  windows_.erase(id_);
  return true;
}

Completion FreeSlotsOp::result() {
  return windowStepDone(Completion::Type::kSlotsFreed, token_, id_, error_);
}

}  // namespace mpilock
