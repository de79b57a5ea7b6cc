// Collectives that may wait, run as non-blocking MPI calls that the progress thread
// tests with backoff. One runs at a time per communicator, in the order JavaScript
// issued them, so that every rank posts its collectives in the same order.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "protocol/completion.h"
#include "runtime/mpi_headers.h"

namespace mpilock {

class CollectiveOp;

// MPI has no non-blocking window allocation, window free or split: ops run those blocking
// calls after a non-blocking step that all ranks reached, and take turns for them in the
// order JavaScript issued the ops (the same on every rank of a communicator). So no two
// ranks ever block in different collectives, each waiting for the other.
class BlockingTurns {
 public:
  void enqueue(const CollectiveOp* op) { order_.push_back(op); }
  bool first(const CollectiveOp* op) const { return !order_.empty() && order_.front() == op; }
  void finished(const CollectiveOp* op) {
    order_.erase(std::remove(order_.begin(), order_.end(), op), order_.end());
  }

 private:
  std::deque<const CollectiveOp*> order_;
};

class CollectiveOp {
 public:
  virtual ~CollectiveOp() {
    if (turns_) turns_->finished(this);
  }
  // Advance without waiting; true when finished (or failed). Called with the MPI mutex held.
  virtual bool step() = 0;
  // The report for JavaScript, once step() returned true.
  virtual Completion result() = 0;
  // For ops with a blocking call: queue up for a turn (see BlockingTurns).
  void takeTurns(BlockingTurns& turns) {
    turns_ = &turns;
    turns.enqueue(this);
  }

 protected:
  bool myTurn() const { return turns_ == nullptr || turns_->first(this); }

 private:
  BlockingTurns* turns_ = nullptr;
};

class BarrierOp : public CollectiveOp {
 public:
  BarrierOp(uint32_t token, int32_t window, MPI_Comm comm)
      : token_(token), window_(window), comm_(comm) {}
  bool step() override;
  Completion result() override;

 private:
  uint32_t token_;
  int32_t window_;
  MPI_Comm comm_;
  MPI_Request request_ = MPI_REQUEST_NULL;
  bool started_ = false;
  int error_ = MPI_SUCCESS;
};

// Broadcast of a byte payload of any size. The first round carries the length and the
// first kInline bytes, so a small payload takes one round; the rest follows in chunks
// below the int count limit, all posted at once and tested together.
class BroadcastOp : public CollectiveOp {
 public:
  // `data` is the root's payload, kept alive by JavaScript until the result is delivered.
  BroadcastOp(uint32_t token, int32_t window, MPI_Comm comm, int root, const uint8_t* data,
              size_t size, size_t chunk);
  bool step() override;
  Completion result() override;

 private:
  bool fail(int rc);
  uint32_t token_;
  int32_t window_;
  MPI_Comm comm_;
  int root_, rank_ = 0;
  const uint8_t* rootData_;
  uint64_t size_;
  size_t chunk_;
  int stage_ = 0;
  static constexpr size_t kInline = 4096 - sizeof(uint64_t);
  struct Header {
    uint64_t size;
    uint8_t bytes[kInline];
  };
  Header header_;
  MPI_Request headerRequest_ = MPI_REQUEST_NULL;
  std::vector<MPI_Request> chunkRequests_;
  std::unique_ptr<Payload> received_;
  int error_ = MPI_SUCCESS;
};

// The lowest and highest of one integer over all ranks (one MPI_Iallreduce with MAX of
// the value and its negation): lets every rank check that all ranks passed the same.
class AgreeOp : public CollectiveOp {
 public:
  AgreeOp(uint32_t token, int32_t window, MPI_Comm comm, int64_t value)
      : token_(token), window_(window), comm_(comm), in_{value, -value} {}
  bool step() override;
  Completion result() override;

 private:
  uint32_t token_;
  int32_t window_;
  MPI_Comm comm_;
  int64_t in_[2], out_[2] = {0, 0};
  MPI_Request request_ = MPI_REQUEST_NULL;
  bool started_ = false;
  int error_ = MPI_SUCCESS;
};

std::string mpiErrorText(int rc);

// The completion of a window's create or free step (lock and toolkit slot windows alike):
// `type`, or an error with MPI's text.
Completion windowStepDone(Completion::Type type, uint32_t token, int32_t id, int error);

}  // namespace mpilock
