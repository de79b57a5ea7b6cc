// A few 64-bit integers on one rank (the root) of a communicator, changed by any rank with
// MPI_Fetch_and_op inside one MPI_Win_lock_all epoch: the toolkit's counters, turns,
// semaphores and conditions (lib/toolkit/). Plain C++: node/binding.cc only converts values.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "collectives/collective_ops.h"
#include "runtime/mpi_headers.h"

namespace mpilock {

class SlotWindow {
 public:
  SlotWindow(MPI_Comm comm, MPI_Win win, int root, int rank)
      : comm_(comm), win_(win), root_(root), rank_(rank) {}
  // The slot's value before adding `delta` (0: an atomic read), completed before it
  // returns. Called with the MPI mutex held.
  int64_t fetchAdd(int slot, int64_t delta) {
    int64_t old = 0;
    MPI_Fetch_and_op(&delta, &old, MPI_INT64_T, root_, slot, MPI_SUM, win_);
    MPI_Win_flush(root_, win_);
    return old;
  }
  MPI_Comm comm() const { return comm_; }
  MPI_Win win() const { return win_; }
  bool hosted() const { return root_ == rank_; }

 private:
  MPI_Comm comm_;
  MPI_Win win_;
  int root_, rank_;
};

// The slot windows of the process, by the id JavaScript gave each.
class SlotWindows {
 public:
  SlotWindow* find(int32_t id) {
    auto it = windows_.find(id);
    return it == windows_.end() ? nullptr : it->second.get();
  }
  void adopt(int32_t id, std::unique_ptr<SlotWindow> w) { windows_[id] = std::move(w); }
  void erase(int32_t id) { windows_.erase(id); }
  bool empty() const { return windows_.empty(); }
  std::vector<int32_t> ids() const {
    std::vector<int32_t> out;
    for (const auto& [id, w] : windows_) out.push_back(id);
    return out;
  }
  bool hostsAny() const {
    for (const auto& [id, w] : windows_) {
      if (w->hosted()) return true;
    }
    return false;
  }
  // Lets MPI progress requests that target this rank's slots (emulated atomics).
  void progressHosted() {
    for (const auto& [id, w] : windows_) {
      int flag = 0;
      if (w->hosted()) MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, w->comm(), &flag, MPI_STATUS_IGNORE);
    }
  }

 private:
  std::map<int32_t, std::unique_ptr<SlotWindow>> windows_;
};

// Collective over `parent`: duplicates it, allocates `count` zeroed slots on `root` and
// opens the access epoch; nobody touches the slots before the root zeroed them.
class CreateSlotsOp : public CollectiveOp {
 public:
  CreateSlotsOp(uint32_t token, int32_t id, MPI_Comm parent, int root, int count,
                SlotWindows& windows)
      : token_(token), id_(id), parent_(parent), root_(root), count_(count), windows_(windows) {}
  bool step() override;
  Completion result() override;

 private:
  uint32_t token_;
  int32_t id_;
  MPI_Comm parent_;
  int root_, count_;
  SlotWindows& windows_;
  int stage_ = 0;
  MPI_Comm comm_ = MPI_COMM_NULL;
  MPI_Win win_ = MPI_WIN_NULL;
  int rank_ = 0;
  MPI_Request request_ = MPI_REQUEST_NULL;
  int error_ = MPI_SUCCESS;
};

// Collective: meets the other ranks (no fetch-and-add of theirs still targets the root),
// then ends the epoch and frees the window and its communicator.
class FreeSlotsOp : public CollectiveOp {
 public:
  FreeSlotsOp(uint32_t token, int32_t id, SlotWindows& windows)
      : token_(token), id_(id), windows_(windows) {}
  bool step() override;
  Completion result() override;

 private:
  uint32_t token_;
  int32_t id_;
  SlotWindows& windows_;
  int stage_ = 0;
  MPI_Request request_ = MPI_REQUEST_NULL;
  int error_ = MPI_SUCCESS;
};

}  // namespace mpilock
