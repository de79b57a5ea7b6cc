#include "node/loop_wake.h"

#include <uv.h>

#include <map>

namespace mpilock {

namespace {

// As a waiter thread's timed futex wait does (node::Options::reclaimEveryMs).
const uint64_t kReclaimEveryMs = node::Options{}.reclaimEveryMs;

struct Watcher {
  uv_poll_t poll;
  uv_timer_t timer;
  int open = 2;       // handles not closed yet
  int windows = 0;    // entries watched through it
  int32_t table = 0;  // the table's entry 0 (the first watched): where nudges go
  napi_env env = nullptr;
  std::shared_ptr<WakeChannel> channel;
  LoopWake::Deliver deliver;
  std::unique_ptr<Napi::AsyncContext> context;
};

// Never destroyed: a process that exits with a window still watched (process.exit(), an
// uncaught error) keeps its watchers reachable to the end instead of freeing the maps
// under them at static destruction.
std::map<WakeChannel*, Watcher*>& byChannel = *new std::map<WakeChannel*, Watcher*>;
std::map<int32_t, WakeChannel*>& byWindow = *new std::map<int32_t, WakeChannel*>;

void onReadable(uv_poll_t* handle, int status, int) {
  auto* w = static_cast<Watcher*>(handle->data);
  if (status < 0) return;
  bool nudged = w->channel->drain();
  CompletionBatch batch;
  if (nudged) {
    batch.emplace_back(Completion::Type::kNudge);
    batch.back().window = w->table;
  }
  for (auto& level : w->channel->sleepers()) {
    CompletionBatch mine = level->onWake();
    for (auto& c : mine) batch.push_back(std::move(c));
  }
  if (batch.empty()) return;
  Napi::Env env(w->env);
  Napi::HandleScope scope(env);
  // A callback scope: the promises the completions settle run their reactions after it.
  Napi::CallbackScope callback(env, *w->context);
  w->deliver(env, new CompletionBatch(std::move(batch)));
}

void onTick(uv_timer_t* handle) {
  auto* w = static_cast<Watcher*>(handle->data);
  for (auto& level : w->channel->sleepers()) level->reclaimTick();
}

void onClosed(uv_handle_t* handle) {
  auto* w = static_cast<Watcher*>(handle->data);
  if (--w->open == 0) delete w;
}

}  // namespace

bool LoopWake::watch(Napi::Env env, int32_t window, const std::shared_ptr<NodeLevel>& level,
                     Deliver deliver) {
  const std::shared_ptr<WakeChannel>& channel = level ? level->channel() : nullptr;
  if (!channel || !channel->ready() || byWindow.count(window)) return channel && channel->ready();
  auto found = byChannel.find(channel.get());
  if (found != byChannel.end()) {
    found->second->windows++;
    byWindow[window] = channel.get();
    return true;
  }
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) return false;
  auto* w = new Watcher;
  w->env = env;
  w->channel = channel;
  w->deliver = std::move(deliver);
  w->context = std::make_unique<Napi::AsyncContext>(env, "mpilock:wake");
  if (uv_poll_init(loop, &w->poll, channel->fd()) != 0) {
    delete w;
    return false;
  }
  uv_timer_init(loop, &w->timer);
  w->poll.data = w;
  w->timer.data = w;
  uv_poll_start(&w->poll, UV_READABLE, onReadable);
  uv_timer_start(&w->timer, onTick, kReclaimEveryMs, kReclaimEveryMs);
  // Neither keeps the process alive: JavaScript counts the completions it waits for.
  uv_unref(reinterpret_cast<uv_handle_t*>(&w->poll));
  uv_unref(reinterpret_cast<uv_handle_t*>(&w->timer));
  w->windows = 1;
  w->table = window;
  byChannel[channel.get()] = w;
  byWindow[window] = channel.get();
  return true;
}

bool LoopWake::nudge(const std::shared_ptr<NodeLevel>& level) {
  if (!level || !level->channel() || !level->channel()->ready()) return false;
  level->channel()->nudgeAll();
  return true;
}

void LoopWake::unwatch(int32_t window) {
  auto it = byWindow.find(window);
  if (it == byWindow.end()) return;
  WakeChannel* channel = it->second;
  byWindow.erase(it);
  Watcher* w = byChannel[channel];
  if (--w->windows > 0) return;
  byChannel.erase(channel);
  uv_poll_stop(&w->poll);
  uv_timer_stop(&w->timer);
  uv_close(reinterpret_cast<uv_handle_t*>(&w->poll), onClosed);
  uv_close(reinterpret_cast<uv_handle_t*>(&w->timer), onClosed);
}

}  // namespace mpilock
