#include "collectives/communicators.h"

namespace mpilock {

MPI_Comm Communicators::find(int32_t id) const {
  auto it = comms_.find(id);
  return it == comms_.end() ? MPI_COMM_NULL : it->second;
}

bool SplitCommOp::step() {
  if (!started_) {
    started_ = true;
    error_ = MPI_Iallreduce(&valid_, &allValid_, 1, MPI_INT, MPI_MIN, parent_, &request_);
    if (error_ != MPI_SUCCESS) return true;
  }
  if (!reduced_) {
    int done = 0;
    error_ = MPI_Test(&request_, &done, MPI_STATUS_IGNORE);
    if (error_ != MPI_SUCCESS) return true;
    if (!done) return false;
    reduced_ = true;
  }
  if (!allValid_) {
    size_ = -1;
    return true;
  }
  if (!myTurn()) return false;
  MPI_Comm made = MPI_COMM_NULL;
  // Blocking, but every rank of `parent` reaches it right after the same reduction.
  error_ = how_ == How::kShared
               ? MPI_Comm_split_type(parent_, MPI_COMM_TYPE_SHARED, key_, MPI_INFO_NULL, &made)
               : MPI_Comm_split(parent_, color_, key_, &made);
  if (error_ != MPI_SUCCESS || made == MPI_COMM_NULL) return true;
  MPI_Comm_set_errhandler(made, MPI_ERRORS_RETURN);
  MPI_Comm_rank(made, &rank_);
  MPI_Comm_size(made, &size_);
  adopt_(made);
  return true;
}

Completion SplitCommOp::result() {
  Completion c{error_ == MPI_SUCCESS ? Completion::Type::kComm : Completion::Type::kError};
  c.token = token_;
  c.window = id_;
  if (error_ != MPI_SUCCESS) {
    c.text = mpiErrorText(error_);
    return c;
  }
  c.rank = rank_;
  c.size = size_;
  return c;
}

bool FreeCommOp::step() {
  MPI_Comm comm = comms_.find(id_);
  if (id_ == Communicators::kWorld || comm == MPI_COMM_NULL) {
    known_ = false;
    return true;
  }
  // Local in Open MPI and MPICH: marks it for deallocation once pending operations end.
  error_ = MPI_Comm_free(&comm);
  comms_.forget(id_);
  return true;
}

Completion FreeCommOp::result() {
  bool ok = error_ == MPI_SUCCESS && known_;
  Completion c{ok ? Completion::Type::kCommFreed : Completion::Type::kError};
  c.token = token_;
  c.window = id_;
  if (!known_) c.text = "no such communicator (freed already, or the world)";
  if (error_ != MPI_SUCCESS) c.text = mpiErrorText(error_);
  return c;
}

}  // namespace mpilock
