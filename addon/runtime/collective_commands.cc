// Commands that run collectives: making and freeing communicators and windows, and the
// barrier, agreement and broadcast of a window's communicator (a lock table's entries share
// entry 0's: their collectives go there, in one order). Each is queued for the
// progress thread, which advances it without blocking (collectives/).
#include <algorithm>

#include "collectives/window_ops.h"
#include "runtime/progress_thread.h"

namespace mpilock {

static constexpr const char* kWindow = "controller's window";

void ProgressThread::createWindow(uint32_t token, int32_t id, int count, int master, int32_t comm) {
  post([this, token, id, count, master, comm] {
    MPI_Comm parent = comms_.find(comm);
    if (parent == MPI_COMM_NULL) return gone(token, comm, "communicator");
    auto adopt = [this, id](TableParts parts) {
      int count = static_cast<int>(parts.locks.size());
      for (int i = 0; i < count; ++i) {
        int32_t entryId = id + i;
        auto& window = parts.locks[i];
        if (!parts.levels.empty()) {
          std::shared_ptr<NodeLevel> level = std::move(parts.levels[i]);
          level->setReport([this, entryId](Completion::Type type, LockKind kind, uint32_t seq) {
            deliverNow(type, entryId, kind, seq);
          });
          window->setNodeLevel(level);
          std::lock_guard<std::mutex> g(nodeMutex_);
          nodeLevels_[entryId] = level;
        }
        Entry& e = windows_[entryId];
        e.window = std::move(window);
        e.table = id;
        e.count = i == 0 ? count : 1;
      }
    };
    int entries = std::clamp(count, 1, kMaxTableEntries);
    queueBlocking(creationOps_, std::make_unique<CreateWindowOp>(
                                    token, id, entries, parent, master, options_.biasedReads,
                                    options_.nodeLock, options_.loopWake, adopt));
  });
}

ProgressThread::Entry* ProgressThread::tableOf(int32_t id) {
  Entry* e = entry(id);
  return e == nullptr ? nullptr : entry(e->table);
}

std::vector<LockWindow*> ProgressThread::locksOf(int32_t id) {
  std::vector<LockWindow*> locks;
  Entry* e = entry(id);
  for (int i = 0; e != nullptr && i < e->count; ++i) {
    if (LockWindow* w = lockWindow(id + i)) locks.push_back(w);
  }
  return locks;
}

ProgressThread::Resources ProgressThread::resources() {
  TableCounts& c = tableCounts();
  return {c.windowsLive.load(), c.windowsMade.load(), c.entriesLive.load(), c.nodeSplits.load(),
          c.segmentsMapped.load()};
}

void ProgressThread::splitComm(uint32_t token, int32_t parentId, int32_t id, SplitCommOp::How how,
                               int color, int key, bool valid) {
  post([this, token, parentId, id, how, color, key, valid] {
    MPI_Comm parent = comms_.find(parentId);
    if (parent == MPI_COMM_NULL) return gone(token, parentId, "communicator");
    queueBlocking(creationOps_, std::make_unique<SplitCommOp>(
                                    token, id, parent, how, color, key, valid,
                                    [this, id](MPI_Comm made) { comms_.adopt(id, made); }));
  });
}

void ProgressThread::queueBlocking(std::deque<std::unique_ptr<CollectiveOp>>& ops,
                                   std::unique_ptr<CollectiveOp> op) {
  op->takeTurns(turns_);
  ops.push_back(std::move(op));
}

void ProgressThread::freeComm(uint32_t token, int32_t id) {
  post([this, token, id] {
    creationOps_.push_back(std::make_unique<FreeCommOp>(token, id, comms_));
  });
}

void ProgressThread::freeWindow(uint32_t token, int32_t id) {
  post([this, token, id] {
    Entry* e = entry(id);
    // Another entry than 0 of a table: freed with the table (by its entry 0).
    if (e == nullptr || e->table != id) {
      Completion c{Completion::Type::kWindowFreed};
      c.token = token;
      c.window = id;
      outbox_.push_back(std::move(c));
      return;
    }
    queueBlocking(e->ops, std::make_unique<FreeWindowOp>(token, id, locksOf(id), [] {}));
  });
}

// A collective asked for on a window or communicator that was freed: report it, so
// nobody waits forever (JavaScript checks communicators first; this is the safety net).
void ProgressThread::gone(uint32_t token, int32_t id, const char* what) {
  Completion c{Completion::Type::kError};
  c.token = token;
  c.window = id;
  c.text = std::string("the ") + what + " was freed before this collective started";
  outbox_.push_back(std::move(c));
}

void ProgressThread::barrier(uint32_t token, int32_t id) {
  post([this, token, id] {
    Entry* e = tableOf(id);
    if (e == nullptr) return gone(token, id, kWindow);
    e->ops.push_back(std::make_unique<BarrierOp>(token, id, e->window->comm()));
  });
}

void ProgressThread::agree(uint32_t token, int32_t id, int64_t value) {
  post([this, token, id, value] {
    Entry* e = tableOf(id);
    if (e == nullptr) return gone(token, id, kWindow);
    e->ops.push_back(std::make_unique<AgreeOp>(token, id, e->window->comm(), value));
  });
}

void ProgressThread::broadcast(uint32_t token, int32_t id, int root, const uint8_t* data,
                               size_t size, size_t chunk) {
  post([this, token, id, root, data, size, chunk] {
    Entry* e = tableOf(id);
    if (e == nullptr) return gone(token, id, kWindow);
    e->ops.push_back(
        std::make_unique<BroadcastOp>(token, id, e->window->comm(), root, data, size, chunk));
  });
}

}  // namespace mpilock
