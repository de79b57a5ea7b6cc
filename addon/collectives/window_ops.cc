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
// makes the segment (one for the whole table), the others map it, and the vote in step()
// decides for all of them.
void CreateWindowOp::planNodeLock(int rank, int size) {
  MPI_Comm node = MPI_COMM_NULL;
  tableCounts().nodeSplits++;
  if (MPI_Comm_split_type(comm_, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node) != MPI_SUCCESS) {
    why_ = "MPI_Comm_split_type failed";
    return;
  }
  int nodeSize = 0, nodeRank = 0;
  MPI_Comm_size(node, &nodeSize);
  MPI_Comm_rank(node, &nodeRank);
  if (nodeSize != size) {
    why_ = "the ranks are on more than one node";
    MPI_Comm_free(&node);
    return;
  }
  if (!node::kHasFutex && nodeLock_) {  // the same answer on every rank of the node
    why_ = "no futex on this system (the node lock needs Linux)";
    MPI_Comm_free(&node);
    return;
  }
  uint32_t slots = static_cast<uint32_t>(size);
  size_t bytes = tableSegmentBytes(count_, slots);
  char name[64] = {0};
  std::string error;
  std::unique_ptr<NodeSegment> created;
  if (nodeRank == 0 && nodeLock_) {
    created = NodeSegment::create(bytes, error);
    if (created) std::snprintf(name, sizeof name, "%s", created->name().c_str());
  }
  MPI_Bcast(name, sizeof name, MPI_CHAR, 0, node);
  MPI_Comm_free(&node);
  std::shared_ptr<NodeSegment> segment = std::move(created);
  if (nodeRank != 0 && nodeLock_ && name[0] != 0) segment = NodeSegment::open(name, bytes, error);
  if (!segment) {
    why_ = nodeLock_ ? "no shared memory: " + error : "";
    return;
  }
  tableCounts().segmentsMapped++;
  // slot == rank: split with the rank as key
  levels_ = tableNodeLevels(segment, count_, slots, static_cast<uint32_t>(nodeRank), why_);
  if (levels_.empty()) {
    segment->unlink();  // no rank will use it (the vote below says so)
    return;
  }
  if (!loopWake_) return;
  channel_ = std::make_shared<WakeChannel>(segment->name(), slots, static_cast<uint32_t>(nodeRank));
  if (!channel_->make()) channel_.reset();
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
    // A block per entry on every rank: its revocation slot; the master's also holds the
    // entry's lock counters.
    MPI_Aint slots = static_cast<MPI_Aint>(count_) * kWindowSlots;
    // Blocking, but every rank reaches it right after the same idup completed.
    error_ = MPI_Win_allocate(slots * sizeof(int64_t), sizeof(int64_t), info, comm_, &base_, &win_);
    MPI_Info_free(&info);
    if (error_ != MPI_SUCCESS) return true;
    tableCounts().windowsMade++;
    tableCounts().windowsLive++;
    for (MPI_Aint i = 0; i < slots; ++i) base_[i] = 0;
    MPI_Win_lock_all(MPI_MODE_NOCHECK, win_);
    MPI_Win_sync(win_);
    int size = 1;
    MPI_Comm_size(comm_, &size);
    planNodeLock(rank, size);
    int64_t pidns = pidNamespace();
    votes_[0] = levels_.empty() ? 0 : 1;
    votes_[1] = pidns;
    votes_[2] = -pidns;
    votes_[3] = count_;
    votes_[4] = -count_;
    votes_[5] = channel_ ? 1 : 0;
    // Nobody touches the counters before the master has zeroed them, nor the node locks
    // before every rank mapped them; and all of them use them or none.
    error_ = MPI_Iallreduce(votes_, agreed_, 6, MPI_INT64_T, MPI_MIN, comm_, &request_);
    if (error_ != MPI_SUCCESS) return true;
    stage_ = 2;
  }
  if (stage_ == 2) {
    error_ = MPI_Test(&request_, &done, MPI_STATUS_IGNORE);
    if (error_ != MPI_SUCCESS) return true;
    if (!done) return false;
    bool node = agreed_[0] == 1 && agreed_[3] == -agreed_[4];
    if (!node || agreed_[5] != 1) return adoptTable();
    // Every FIFO exists now: open the others', and wake through them only if every rank could.
    opened_ = channel_->openPeers() ? 1 : 0;
    error_ = MPI_Iallreduce(&opened_, &allOpened_, 1, MPI_INT64_T, MPI_MIN, comm_, &request_);
    if (error_ != MPI_SUCCESS) return true;
    stage_ = 3;
  }
  error_ = MPI_Test(&request_, &done, MPI_STATUS_IGNORE);
  if (error_ != MPI_SUCCESS) return true;
  if (!done) return false;
  channel_->finish(allOpened_ == 1);
  if (channel_->ready()) {
    for (size_t i = 0; i < levels_.size(); ++i)
      levels_[i]->useChannel(channel_, id_ + static_cast<int32_t>(i));
  }
  return adoptTable();
}

bool CreateWindowOp::adoptTable() {
  channel_.reset();  // the entries keep it where it serves; else its FIFO goes now
  // Tables of other sizes on other ranks (JavaScript's agree() then fails the sync() on
  // every rank): their regions do not line up, so none is used.
  bool sameSize = agreed_[3] == -agreed_[4];
  if (agreed_[0] == 1 && sameSize) {
    levels_.front()->segmentMapped();  // by every rank: unlink it
    // Dead slots are told by pid: only where every rank sees the same pids.
    bool samePids = agreed_[1] == -agreed_[2] && agreed_[1] != 0;
    if (!samePids) {
      for (auto& level : levels_) level->noReclaim();
    }
  } else {
    if (!levels_.empty()) {
      why_ = sameSize ? "another rank could not map the node's shared memory"
                      : "the ranks asked for tables of different sizes";
      levels_.front()->segmentMapped();
    }
    levels_.clear();
  }
  TableParts parts;
  parts.comm = comm_;
  parts.win = win_;
  parts.locks = tableLocks(comm_, win_, master_, base_, biasedReads_, count_);
  parts.levels = std::move(levels_);
  parts.why = why_;
  tableCounts().entriesLive += count_;
  adopt_(std::move(parts));
  return true;
}

Completion CreateWindowOp::result() {
  Completion c = windowStepDone(Completion::Type::kWindowCreated, token_, id_, error_);
  bool node = agreed_[0] == 1 && agreed_[3] == -agreed_[4];
  c.low = node ? 1 : 0;  // the node lock serves the table's entries
  c.high = count_;       // entries made: ids id_ .. id_ + count_ - 1
  if (c.type == Completion::Type::kWindowCreated && c.low == 0) c.text = why_;
  return c;
}

bool FreeWindowOp::step() {
  int done = 0;
  if (stage_ == 0) {
    // JavaScript released its claims before closing: what is still held here is a grant
    // that raced with its withdrawal. Release it, and wait for withdrawals to finish.
    bool busy = false;
    for (LockWindow* lock : locks_) {
      lock->releaseEverything();
      busy |= lock->busy();
    }
    if (busy) return false;
    // Shaped like an agree() (AgreeOp): a rank that skipped a collective of the others
    // and closes meets their agree, which then sees the closing vote, instead of MPI
    // matching a barrier with a reduction (MPI_ERR_TRUNCATE, a hang or a crash). The
    // window is freed once every rank voted to close; until then, vote again.
    int rank = 0;
    MPI_Comm_rank(locks_.front()->comm(), &rank);
    vote_[0] = kClosingVote + rank;
    vote_[1] = -vote_[0];
    error_ =
        MPI_Iallreduce(vote_, votes_, 2, MPI_INT64_T, MPI_MAX, locks_.front()->comm(), &request_);
    if (error_ != MPI_SUCCESS) return true;
    stage_ = 1;
  }
  if (stage_ == 1) {
    error_ = MPI_Test(&request_, &done, MPI_STATUS_IGNORE);
    if (error_ != MPI_SUCCESS) return true;
    if (!done) return false;
    int size = 1;
    MPI_Comm_size(locks_.front()->comm(), &size);
    // The highest vote is a closing one only when every rank voted to close.
    if (votes_[0] >= kClosingVote + size) {
      stage_ = 0;
      return false;
    }
    stage_ = 2;
  }
  if (!myTurn()) return false;
  MPI_Win win = locks_.front()->win();
  MPI_Comm comm = locks_.front()->comm();
  MPI_Win_unlock_all(win);
  MPI_Win_free(&win);
  MPI_Comm_free(&comm);
  tableCounts().windowsLive--;
  tableCounts().entriesLive -= static_cast<int64_t>(locks_.size());
  forget_();
  return true;
}

Completion FreeWindowOp::result() {
  return windowStepDone(Completion::Type::kWindowFreed, token_, id_, error_);
}

}  // namespace mpilock
