#include "node/loop_wake.h"

#include <uv.h>

#include <map>

namespace mpilock {

namespace {

constexpr uint64_t kReclaimEveryMs = 500;

struct Watcher {
  uv_poll_t poll;
  uv_timer_t timer;
  int32_t window = 0;
  int open = 2;  // handles not closed yet
  napi_env env = nullptr;
  std::shared_ptr<NodeLevel> level;
  LoopWake::Deliver deliver;
  std::unique_ptr<Napi::AsyncContext> context;
};

std::map<int32_t, Watcher*> watchers;

void onReadable(uv_poll_t* handle, int status, int) {
  auto* w = static_cast<Watcher*>(handle->data);
  if (status < 0) return;
  CompletionBatch batch = w->level->onWake(w->window);
  if (batch.empty()) return;
  Napi::Env env(w->env);
  Napi::HandleScope scope(env);
  // A callback scope: the promises the completions settle run their reactions after it.
  Napi::CallbackScope callback(env, *w->context);
  w->deliver(env, new CompletionBatch(std::move(batch)));
}

void onTick(uv_timer_t* handle) { static_cast<Watcher*>(handle->data)->level->reclaimTick(); }

void onClosed(uv_handle_t* handle) {
  auto* w = static_cast<Watcher*>(handle->data);
  if (--w->open == 0) delete w;
}

}  // namespace

bool LoopWake::watch(Napi::Env env, int32_t window, std::shared_ptr<NodeLevel> level,
                     Deliver deliver) {
  int fd = level ? level->wakeFd() : -1;
  if (fd < 0 || watchers.count(window)) return false;
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) return false;
  auto* w = new Watcher;
  w->window = window;
  w->env = env;
  w->level = std::move(level);
  w->deliver = std::move(deliver);
  w->context = std::make_unique<Napi::AsyncContext>(env, "mpilock:wake");
  if (uv_poll_init(loop, &w->poll, fd) != 0) {
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
  watchers[window] = w;
  return true;
}

void LoopWake::unwatch(int32_t window) {
  auto it = watchers.find(window);
  if (it == watchers.end()) return;
  Watcher* w = it->second;
  watchers.erase(it);
  uv_poll_stop(&w->poll);
  uv_timer_stop(&w->timer);
  uv_close(reinterpret_cast<uv_handle_t*>(&w->poll), onClosed);
  uv_close(reinterpret_cast<uv_handle_t*>(&w->timer), onClosed);
}

}  // namespace mpilock
