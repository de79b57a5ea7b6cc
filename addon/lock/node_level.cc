// NodeLevel and NodeSegment: see node_level.h.
#include "lock/node_level.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

namespace mpilock {

namespace {
std::string systemError(const char* what) {
  return std::string(what) + ": " + std::strerror(errno);
}

void* mapShared(int fd, size_t bytes, std::string& error) {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) {
    error = systemError("mmap");
    return nullptr;
  }
  return p;
}
// The cores this process may run on (its affinity mask), at least 1.
uint32_t onlineCores() {
#ifdef __linux__
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
    return static_cast<uint32_t>(CPU_COUNT(&set));
#endif
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<uint32_t>(n) : 1;
}
}  // namespace

std::unique_ptr<NodeSegment> NodeSegment::create(size_t bytes, std::string& error) {
  std::random_device random;
  for (int attempt = 0; attempt < 8; ++attempt) {
    char name[48];
    std::snprintf(name, sizeof name, "/mpilock-%08x%08x", random(), random());
    int fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
    if (fd < 0 && errno == EEXIST) continue;
    if (fd < 0) {
      error = systemError("shm_open");
      return nullptr;
    }
    // ftruncate gives zeros: the node lock's init-once needs a zero-filled region.
    void* base =
        ftruncate(fd, static_cast<off_t>(bytes)) == 0 ? mapShared(fd, bytes, error) : nullptr;
    if (base == nullptr && error.empty()) error = systemError("ftruncate");
    close(fd);
    if (base == nullptr) {
      shm_unlink(name);
      return nullptr;
    }
    return std::unique_ptr<NodeSegment>(new NodeSegment(name, base, bytes));
  }
  error = "shm_open: no free name";
  return nullptr;
}

std::unique_ptr<NodeSegment> NodeSegment::open(const std::string& name, size_t bytes,
                                               std::string& error) {
  int fd = shm_open(name.c_str(), O_RDWR, 0600);
  if (fd < 0) {
    error = systemError("shm_open");  // another /dev/shm than the first rank's, for one
    return nullptr;
  }
  struct stat st {};
  void* base = nullptr;
  if (fstat(fd, &st) != 0 || static_cast<size_t>(st.st_size) != bytes)
    error = "shm segment " + name + " has another size";
  else
    base = mapShared(fd, bytes, error);
  close(fd);
  if (base == nullptr) return nullptr;
  auto s = std::unique_ptr<NodeSegment>(new NodeSegment(name, base, bytes));
  s->linked_ = false;  // the first rank unlinks it
  return s;
}

void NodeSegment::unlink() {
  if (linked_) shm_unlink(name_.c_str());
  linked_ = false;
}

NodeSegment::~NodeSegment() {
  unlink();
  munmap(base_, bytes_);
}

NodeLevel::NodeLevel(std::shared_ptr<NodeSegment> segment, uint32_t slots, uint32_t slot,
                     node::Options options, size_t offset, size_t bytes)
    : segment_(std::move(segment)),
      lock_(static_cast<char*>(segment_->base()) + offset,
            bytes == 0 ? segment_->bytes() - offset : bytes, slots, slot, options),
      pollsPay_(slots <= onlineCores()) {}

NodeLevel::~NodeLevel() {
  releaseEverything();
  for (Request* r : {&read_, &write_}) {
    {
      std::lock_guard<std::mutex> g(r->m);
      r->stop = true;
    }
    r->cv.notify_one();
    if (r->waiter.joinable()) r->waiter.join();
  }
  lock_.detach();
}

node::Step NodeLevel::beginStep(LockKind kind) {
  return kind == LockKind::kRead ? lock_.beginRead() : lock_.beginWrite();
}
node::Step NodeLevel::pollStep(LockKind kind) {
  return kind == LockKind::kRead ? lock_.pollRead() : lock_.pollWrite();
}
void NodeLevel::withdrawStep(LockKind kind) {
  kind == LockKind::kRead ? lock_.withdrawRead() : lock_.withdrawWrite();
}

Pending NodeLevel::begin(LockKind kind, uint32_t seq, bool jsPolls) {
  Request& r = request(kind);
  std::lock_guard<std::mutex> g(r.m);
  r.seq = seq;
  r.polls = 0;
  if (beginStep(kind) == node::Step::kGranted) {
    setState(r, State::kHeld);
    return Pending::kGranted;
  }
  // With more ranks on the node than cores, a rank that polls takes the core the holder
  // needs: where the event loop can sleep instead (loop wake), it does.
  if (channel_ && !pollsPay_) jsPolls = false;
  if (jsPolls && (kind == LockKind::kRead || lock_.writersAhead() <= node::kHeadDepth)) {
    setState(r, State::kJsPolls);
    return Pending::kJsPolls;
  }
  return handOff(kind, r, jsPolls);
}

Pending NodeLevel::poll(LockKind kind, uint32_t seq, bool handOver) {
  Request& r = request(kind);
  std::lock_guard<std::mutex> g(r.m);
  if (r.state != State::kJsPolls || r.seq != seq) return Pending::kJsPolls;
  if (pollStep(kind) == node::Step::kGranted) {
    setState(r, State::kHeld);
    return Pending::kGranted;
  }
  if (!handOver) {
    // Give the core to whoever holds the lock or is next: with more ranks than cores, a
    // poll that keeps its core makes the holder wait for a time slice (the futex probe in
    // the design notes: 107 us a pair without yielding, 4 us with). Not at the first polls:
    // a holder running on another core releases within them, and a yield can hand this core
    // to an unrelated process for a whole time slice.
    if (++r.polls < kPollsBeforeYield) return Pending::kJsPolls;
    sched_yield();
    return pollStep(kind) == node::Step::kGranted ? (setState(r, State::kHeld), Pending::kGranted)
                                                  : Pending::kJsPolls;
  }
  return handOff(kind, r, false);
}

Pending NodeLevel::tryBegin(LockKind kind, uint32_t seq) {
  Request& r = request(kind);
  std::lock_guard<std::mutex> g(r.m);
  if (r.state != State::kIdle) return Pending::kBusy;
  bool got = kind == LockKind::kRead ? lock_.tryRead() : lock_.tryWrite();
  if (!got) return Pending::kBusy;
  r.seq = seq;
  setState(r, State::kHeld);
  return Pending::kGranted;
}

void NodeLevel::end(LockKind kind, bool downgrade) {
  Request& r = request(kind);
  std::lock_guard<std::mutex> g(r.m);
  if (r.state != State::kHeld) return;
  setState(r, State::kIdle);
  if (kind == LockKind::kRead) return lock_.readRelease();
  if (!downgrade) return lock_.writeRelease();
  std::lock_guard<std::mutex> gr(read_.m);  // the read request is idle: the scheduler's rule
  lock_.writeDowngrade();
  read_.state = State::kHeld;
}

void NodeLevel::withdraw(LockKind kind, uint32_t seq) {
  Request& r = request(kind);
  std::lock_guard<std::mutex> g(r.m);
  if (r.seq != seq) return;
  if (r.state == State::kJsPolls || r.state == State::kLoop) {
    if (r.state == State::kLoop) lock_.wokenInLoop(kind == LockKind::kWrite);
    withdrawStep(kind);
    setState(r, State::kIdle);
    report_(Completion::Type::kWithdrawn, kind, seq);
  } else if (r.state == State::kThread) {
    node::NodeLock::cancel(r.token);  // the waiter withdraws it (or releases a raced grant)
  }
}

bool NodeLevel::busy() {
  for (Request* r : {&read_, &write_}) {
    std::lock_guard<std::mutex> g(r->m);
    if (r->state == State::kThread) return true;
  }
  return false;
}

void NodeLevel::releaseEverything() {
  for (LockKind kind : {LockKind::kRead, LockKind::kWrite}) {
    Request& r = request(kind);
    std::unique_lock<std::mutex> g(r.m);
    if (r.state == State::kThread) {
      node::NodeLock::cancel(r.token);
      r.cv.wait(g, [&] { return r.state != State::kThread; });
    }
    if (r.state == State::kLoop) lock_.wokenInLoop(kind == LockKind::kWrite);
    if (r.state == State::kJsPolls || r.state == State::kLoop)
      withdrawStep(kind), setState(r, State::kIdle);
    if (r.state == State::kHeld) {
      setState(r, State::kIdle);
      kind == LockKind::kRead ? lock_.readRelease() : lock_.writeRelease();
    }
  }
}

void NodeLevel::handToWaiter(LockKind kind, Request& r, bool untilHead) {
  setState(r, State::kThread);
  r.untilHead = untilHead && kind == LockKind::kWrite;
  r.token.reset();
  r.work = true;
  if (!r.waiter.joinable()) r.waiter = std::thread([this, kind] { waitLoop(kind); });
  r.cv.notify_all();
}

void NodeLevel::waitLoop(LockKind kind) {
  Request& r = request(kind);
  std::unique_lock<std::mutex> g(r.m);
  for (;;) {
    r.cv.wait(g, [&] { return r.work || r.stop; });
    if (!r.work) return;
    r.work = false;
    uint32_t seq = r.seq;
    bool untilHead = r.untilHead;
    g.unlock();  // JavaScript may withdraw (cancel the token) meanwhile
    auto never = node::Clock::time_point::max();
    node::Status st = kind == LockKind::kRead ? lock_.awaitRead(never, &r.token)
                                              : lock_.awaitWrite(never, &r.token, untilHead);
    g.lock();
    if (st == node::Status::kHead && r.token.cancelled.load() == 0) {
      setState(r, State::kJsPolls);  // pending, next in line: JavaScript polls it from here
      r.polls = 0;
      report_(Completion::Type::kHead, kind, seq);
      r.cv.notify_all();
      continue;
    }
    if (st == node::Status::kHead) {  // withdrawn meanwhile: do it
      lock_.withdrawWrite();
      st = node::Status::kCancelled;
    }
    bool granted = st == node::Status::kGranted;
    r.state = granted ? State::kHeld : State::kIdle;
    report_(granted ? Completion::Type::kGranted : Completion::Type::kWithdrawn, kind, seq);
    r.cv.notify_all();  // releaseEverything() may wait for this
  }
}

NodeLevel::Sample NodeLevel::sample() {
  node::Snapshot s = lock_.snapshot();
  // Cached holds are not readers a user would see: they go the moment a writer asks.
  int64_t readers = static_cast<int64_t>(s.readers) - s.cachedHolds;
  return {readers < 0 ? 0 : readers, s.writerSlot, s.writersQueued, s.phase};
}

}  // namespace mpilock
