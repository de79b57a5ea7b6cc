// Communicators that JavaScript holds by id (0 is MPI_COMM_WORLD) and the collectives
// that make and free them. Their creation is collective and MPI has no non-blocking
// split: each op first makes every rank arrive with a non-blocking reduction (which also
// checks every rank's arguments), then runs the blocking split, which all ranks reach at
// once. Every method must be called with the runtime's MPI mutex held.
#pragma once
#include <cstdint>
#include <functional>
#include <map>

#include "collectives/collective_ops.h"

namespace mpilock {

class Communicators {
 public:
  static constexpr int32_t kWorld = 0;
  void reset() { comms_ = {{kWorld, MPI_COMM_WORLD}}; }
  // MPI_COMM_NULL when `id` is unknown or was freed.
  MPI_Comm find(int32_t id) const;
  void adopt(int32_t id, MPI_Comm comm) { comms_[id] = comm; }
  void forget(int32_t id) { comms_.erase(id); }

 private:
  std::map<int32_t, MPI_Comm> comms_{{kWorld, MPI_COMM_WORLD}};
};

// MPI_Comm_split (color, key) or MPI_Comm_split_type(MPI_COMM_TYPE_SHARED, key) of
// `parent`. `valid` false: this rank's arguments were bad, so no rank splits and every
// rank's result says so. Reports kComm: size 0 when this rank is in no part (MPI_UNDEFINED
// color), size -1 when some rank's arguments were bad.
class SplitCommOp : public CollectiveOp {
 public:
  enum class How { kColor, kShared };
  using Adopt = std::function<void(MPI_Comm)>;
  SplitCommOp(uint32_t token, int32_t id, MPI_Comm parent, How how, int color, int key, bool valid,
              Adopt adopt)
      : token_(token),
        id_(id),
        parent_(parent),
        how_(how),
        color_(color),
        key_(key),
        valid_(valid ? 1 : 0),
        adopt_(std::move(adopt)) {}
  bool step() override;
  Completion result() override;

 private:
  uint32_t token_;
  int32_t id_;
  MPI_Comm parent_;
  How how_;
  int color_, key_;
  int valid_, allValid_ = 0;
  Adopt adopt_;
  bool started_ = false, reduced_ = false;
  MPI_Request request_ = MPI_REQUEST_NULL;
  int rank_ = -1, size_ = 0;
  int error_ = MPI_SUCCESS;
};

// MPI_Comm_free of a communicator JavaScript made. Queued behind the splits and windows
// still being made from it, so they see it alive.
class FreeCommOp : public CollectiveOp {
 public:
  FreeCommOp(uint32_t token, int32_t id, Communicators& comms)
      : token_(token), id_(id), comms_(comms) {}
  bool step() override;
  Completion result() override;

 private:
  uint32_t token_;
  int32_t id_;
  Communicators& comms_;
  int error_ = MPI_SUCCESS;
  bool known_ = true;
};

}  // namespace mpilock
