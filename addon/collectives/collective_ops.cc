#include "collectives/collective_ops.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>

namespace mpilock {

Completion windowStepDone(Completion::Type type, uint32_t token, int32_t id, int error) {
  Completion c{error == MPI_SUCCESS ? type : Completion::Type::kError};
  c.token = token;
  c.window = id;
  if (error != MPI_SUCCESS) c.text = mpiErrorText(error);
  return c;
}

std::string mpiErrorText(int rc) {
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  return std::string(text, len);
}

static Completion errorCompletion(uint32_t token, int32_t window, int rc) {
  Completion c{Completion::Type::kError};
  c.token = token;
  c.window = window;
  c.text = mpiErrorText(rc);
  return c;
}

bool BarrierOp::step() {
  if (!started_) {
    started_ = true;
    error_ = MPI_Ibarrier(comm_, &request_);
    if (error_ != MPI_SUCCESS) return true;
  }
  int done = 0;
  error_ = MPI_Test(&request_, &done, MPI_STATUS_IGNORE);
  return done || error_ != MPI_SUCCESS;
}

Completion BarrierOp::result() {
  if (error_ != MPI_SUCCESS) return errorCompletion(token_, window_, error_);
  Completion c{Completion::Type::kBarrier};
  c.token = token_;
  c.window = window_;
  return c;
}

bool AgreeOp::step() {
  if (!started_) {
    started_ = true;
    error_ = MPI_Iallreduce(in_, out_, 2, MPI_INT64_T, MPI_MAX, comm_, &request_);
    if (error_ != MPI_SUCCESS) return true;
  }
  int done = 0;
  error_ = MPI_Test(&request_, &done, MPI_STATUS_IGNORE);
  return done || error_ != MPI_SUCCESS;
}

Completion AgreeOp::result() {
  if (error_ != MPI_SUCCESS) return errorCompletion(token_, window_, error_);
  Completion c{Completion::Type::kAgree};
  c.token = token_;
  c.window = window_;
  c.low = -out_[1];
  c.high = out_[0];
  return c;
}

BroadcastOp::BroadcastOp(uint32_t token, int32_t window, MPI_Comm comm, int root,
                         const uint8_t* data, size_t size, size_t chunk)
    : token_(token),
      window_(window),
      comm_(comm),
      root_(root),
      rootData_(data),
      size_(size),
      chunk_(std::clamp<size_t>(chunk, 1, std::numeric_limits<int>::max())) {
  MPI_Comm_rank(comm_, &rank_);
}

bool BroadcastOp::fail(int rc) {
  error_ = rc;
  return true;
}

bool BroadcastOp::step() {
  int done = 0, rc;
  if (stage_ == 0) {
    if (rank_ == root_) {
      header_.size = size_;
      std::memcpy(header_.bytes, rootData_, std::min<uint64_t>(size_, kInline));
    }
    rc = MPI_Ibcast(&header_, sizeof(header_), MPI_BYTE, root_, comm_, &headerRequest_);
    if (rc != MPI_SUCCESS) return fail(rc);
    stage_ = 1;
  }
  if (stage_ == 1) {
    rc = MPI_Test(&headerRequest_, &done, MPI_STATUS_IGNORE);
    if (rc != MPI_SUCCESS) return fail(rc);
    if (!done) return false;
    uint8_t* buffer = const_cast<uint8_t*>(rootData_);
    size_ = header_.size;
    uint64_t inlined = std::min<uint64_t>(size_, kInline);
    if (rank_ != root_) {
      received_ = std::make_unique<Payload>(size_);
      buffer = received_->data();
      std::memcpy(buffer, header_.bytes, inlined);
    }
    for (uint64_t offset = inlined; offset < size_; offset += chunk_) {
      int count = static_cast<int>(std::min<uint64_t>(chunk_, size_ - offset));
      chunkRequests_.push_back(MPI_REQUEST_NULL);
      rc = MPI_Ibcast(buffer + offset, count, MPI_BYTE, root_, comm_, &chunkRequests_.back());
      if (rc != MPI_SUCCESS) return fail(rc);
    }
    stage_ = 2;
  }
  rc = MPI_Testall(static_cast<int>(chunkRequests_.size()), chunkRequests_.data(), &done,
                   MPI_STATUSES_IGNORE);
  if (rc != MPI_SUCCESS) return fail(rc);
  return done;
}

Completion BroadcastOp::result() {
  if (error_ != MPI_SUCCESS) return errorCompletion(token_, window_, error_);
  Completion c{Completion::Type::kBroadcast};
  c.token = token_;
  c.window = window_;
  c.payload = std::move(received_);
  return c;
}

}  // namespace mpilock
