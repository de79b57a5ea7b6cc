#include "lock/wake_channel.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lock/node_level.h"

namespace mpilock {

namespace {
constexpr char kWakeByte = 1, kNudgeByte = 2;
}  // namespace

WakeChannel::WakeChannel(std::string segment, uint32_t slots, uint32_t slot)
    : segment_(std::move(segment)), slot_(slot), peers_(slots, -1) {}

WakeChannel::~WakeChannel() { finish(false); }

// shm_open's names live in /dev/shm on Linux: the FIFOs go beside the segment.
std::string WakeChannel::path(uint32_t slot) const {
  return "/dev/shm" + segment_ + "-w" + std::to_string(slot);
}

bool WakeChannel::make() {
  std::string p = path(slot_);
  if (mkfifo(p.c_str(), 0600) != 0) return false;
  // O_RDWR: a FIFO opened so never blocks the open, and never reads end-of-file.
  fd_ = open(p.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd_ < 0) {
    unlink(p.c_str());
    return false;
  }
  return true;
}

bool WakeChannel::openPeers() {
  for (uint32_t i = 0; i < peers_.size(); ++i) {
    if (i == slot_) continue;
    peers_[i] = open(path(i).c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (peers_[i] < 0) return false;
  }
  return true;
}

void WakeChannel::finish(bool everyRankOpened) {
  if (fd_ >= 0 && !ready_) unlink(path(slot_).c_str());
  if (everyRankOpened && fd_ >= 0) {
    ready_ = true;
    return;
  }
  ready_ = false;
  for (int& fd : peers_) {
    if (fd >= 0) close(fd);
    fd = -1;
  }
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

void WakeChannel::wake(void* self, uint32_t slot) {
  auto* channel = static_cast<WakeChannel*>(self);
  int fd = slot == channel->slot_ ? channel->fd_ : channel->peers_[slot];
  char byte = kWakeByte;
  // EAGAIN: the FIFO is full of wake-ups not read yet, so its reader wakes anyway; EPIPE:
  // its rank is gone (Node ignores SIGPIPE).
  ssize_t written = write(fd, &byte, 1);
  (void)written;
}

void WakeChannel::nudgeAll() {
  char byte = kNudgeByte;
  for (int fd : peers_) {
    if (fd >= 0) {
      ssize_t written = write(fd, &byte, 1);  // as in wake()
      (void)written;
    }
  }
}

bool WakeChannel::drain() {
  char bytes[64];
  bool nudged = false;
  for (ssize_t n; (n = read(fd_, bytes, sizeof bytes)) > 0;) {
    for (ssize_t i = 0; i < n; ++i) nudged = nudged || bytes[i] == kNudgeByte;
  }
  return nudged;
}

void WakeChannel::enlist(const std::weak_ptr<NodeLevel>& level) {
  std::lock_guard<std::mutex> g(m_);
  auto mine = level.lock();
  for (auto& w : asleep_) {
    if (w.lock() == mine) return;
  }
  asleep_.push_back(level);
}

std::vector<std::shared_ptr<NodeLevel>> WakeChannel::sleepers() {
  std::lock_guard<std::mutex> g(m_);
  std::vector<std::shared_ptr<NodeLevel>> out;
  std::vector<std::weak_ptr<NodeLevel>> kept;
  for (auto& w : asleep_) {
    auto level = w.lock();
    if (!level || !level->asleepInLoop()) continue;
    out.push_back(level);
    kept.push_back(w);
  }
  asleep_.swap(kept);
  return out;
}

}  // namespace mpilock
