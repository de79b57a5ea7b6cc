// NodeLevel's loop wake (node_level.h, LOOP WAKE): one FIFO per slot in /dev/shm, named after
// the node's segment, written by whoever changes the lock for a request asleep in the slot's
// event loop.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "lock/node_level.h"

namespace mpilock {

namespace {
// shm_open's names live in /dev/shm on Linux: the FIFOs go beside the segment.
std::string fifoPath(const std::string& segment, uint32_t slot) {
  return "/dev/shm" + segment + "-w" + std::to_string(slot);
}
int64_t nowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}
}  // namespace

bool NodeLevel::makeWakeFifo(std::string& error) {
  std::string path = fifoPath(segment_->name(), lock_.slot());
  if (mkfifo(path.c_str(), 0600) != 0) {
    error = std::string("mkfifo: ") + std::strerror(errno);
    return false;
  }
  // O_RDWR: a FIFO opened so never blocks the open, and never reads end-of-file.
  wakeFd_ = open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (wakeFd_ < 0) {
    error = std::string("open fifo: ") + std::strerror(errno);
    unlink(path.c_str());
    return false;
  }
  return true;
}

bool NodeLevel::openPeerFifos(std::string& error) {
  uint32_t slots = static_cast<uint32_t>(peers_.size());
  for (uint32_t i = 0; i < slots; ++i) {
    if (i == lock_.slot()) continue;
    peers_[i] = open(fifoPath(segment_->name(), i).c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (peers_[i] < 0) {
      error = std::string("open peer fifo: ") + std::strerror(errno);
      return false;
    }
  }
  return true;
}

void NodeLevel::finishLoopWake(bool everyRankOpened) {
  if (wakeFd_ >= 0) unlink(fifoPath(segment_->name(), lock_.slot()).c_str());
  if (everyRankOpened && wakeFd_ >= 0) {
    lock_.setLoopWaker(&NodeLevel::wakeSlot, this);
    loopWake_ = true;
    return;
  }
  for (int& fd : peers_) {
    if (fd >= 0) close(fd);
    fd = -1;
  }
  if (wakeFd_ >= 0) close(wakeFd_);
  wakeFd_ = -1;
}

void NodeLevel::wakeSlot(void* self, uint32_t slot) {
  auto* level = static_cast<NodeLevel*>(self);
  int fd = slot == level->lock_.slot() ? level->wakeFd_ : level->peers_[slot];
  char byte = 1;
  // EAGAIN: the FIFO is full of wake-ups not read yet, so its reader wakes anyway.
  ssize_t written = write(fd, &byte, 1);
  (void)written;
}

NodeLevel::State NodeLevel::checkLoop(LockKind kind, Request& r) {
  bool write = kind == LockKind::kWrite;
  if (pollStep(kind) == node::Step::kGranted) {
    lock_.wokenInLoop(write);
    return r.state = State::kHeld;
  }
  if (r.untilHead && lock_.writersAhead() <= node::kHeadDepth) {
    lock_.wokenInLoop(write);
    r.polls = 0;
    return r.state = State::kJsPolls;
  }
  return State::kLoop;
}

Pending NodeLevel::handOff(LockKind kind, Request& r, bool untilHead) {
  if (!loopWake_) {
    handToWaiter(kind, r, untilHead);
    return Pending::kThreadPolls;
  }
  r.state = State::kLoop;
  r.untilHead = untilHead && kind == LockKind::kWrite;
  lock_.sleepInLoop(kind == LockKind::kWrite, r.untilHead);
  // A change made before the announcement woke nobody: look once more.
  switch (checkLoop(kind, r)) {
    case State::kHeld:
      return Pending::kGranted;
    case State::kJsPolls:
      return Pending::kJsPolls;
    default:
      return Pending::kThreadPolls;
  }
}

CompletionBatch NodeLevel::onWake(int32_t window) {
  char drain[64];
  while (read(wakeFd_, drain, sizeof drain) > 0) {
  }
  CompletionBatch batch;
  for (LockKind kind : {LockKind::kRead, LockKind::kWrite}) {
    Request& r = request(kind);
    std::lock_guard<std::mutex> g(r.m);
    if (r.state != State::kLoop) continue;
    State now = checkLoop(kind, r);
    if (now == State::kLoop) continue;
    batch.emplace_back(now == State::kHeld ? Completion::Type::kGranted : Completion::Type::kHead);
    batch.back().window = window;
    batch.back().lockKind = kind;
    batch.back().seq = r.seq;
  }
  return batch;
}

void NodeLevel::reclaimTick() {
  if (!loopWake_ || !reclaim_) return;
  int64_t now = nowMs();
  if (now - lastReclaimMs_.load() < 500) return;
  lastReclaimMs_.store(now);
  bool sleeping = false;
  for (Request* r : {&read_, &write_}) {
    std::lock_guard<std::mutex> g(r->m);
    sleeping = sleeping || r->state == State::kLoop;
  }
  // What it withdraws wakes the requests it concerns through their FIFOs.
  if (sleeping) lock_.reclaimDead();
}

}  // namespace mpilock
