// NodeLevel's loop wake (node_level.h, LOOP WAKE): the requests that sleep in the event loop,
// and what a wake-up through the channel (lock/wake_channel.h) finds them at.
#include "lock/node_level.h"

namespace mpilock {

void NodeLevel::useChannel(std::shared_ptr<WakeChannel> channel, int32_t window) {
  channel_ = std::move(channel);
  window_ = window;
  lock_.setLoopWaker(&WakeChannel::wake, channel_.get());
}

void NodeLevel::setState(Request& r, State s) {
  if (r.state == State::kLoop) loopSleeping_.fetch_sub(1);
  if (s == State::kLoop) loopSleeping_.fetch_add(1);
  r.state = s;
}

NodeLevel::State NodeLevel::checkLoop(LockKind kind, Request& r) {
  bool write = kind == LockKind::kWrite;
  if (pollStep(kind) == node::Step::kGranted) {
    lock_.wokenInLoop(write);
    setState(r, State::kHeld);
  } else if (r.untilHead && lock_.writersAhead() <= node::kHeadDepth) {
    lock_.wokenInLoop(write);
    r.polls = 0;
    setState(r, State::kJsPolls);
  }
  return r.state;
}

Pending NodeLevel::handOff(LockKind kind, Request& r, bool untilHead) {
  if (!channel_) {
    handToWaiter(kind, r, untilHead);
    return Pending::kThreadPolls;
  }
  setState(r, State::kLoop);
  r.untilHead = untilHead && kind == LockKind::kWrite;
  lock_.sleepInLoop(kind == LockKind::kWrite, r.untilHead);
  channel_->enlist(weak_from_this());
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

CompletionBatch NodeLevel::onWake() {
  CompletionBatch batch;
  for (LockKind kind : {LockKind::kRead, LockKind::kWrite}) {
    Request& r = request(kind);
    std::lock_guard<std::mutex> g(r.m);
    if (r.state != State::kLoop) continue;
    State now = checkLoop(kind, r);
    if (now == State::kLoop) continue;
    batch.emplace_back(now == State::kHeld ? Completion::Type::kGranted : Completion::Type::kHead);
    batch.back().window = window_;
    batch.back().lockKind = kind;
    batch.back().seq = r.seq;
  }
  return batch;
}

void NodeLevel::reclaimTick() {
  // The caller's timer sets the pace; what this withdraws wakes the requests it concerns.
  if (channel_ && lock_.reclaimsDead() && asleepInLoop()) lock_.reclaimDead();
}

}  // namespace mpilock
