// Node-API glue: converts values between JavaScript and the native runtime. The MPI
// runtime lives in runtime/ (progress_thread.h), the lock algorithm in lock/, the codes
// exchanged in protocol/protocol.h.
#include <napi.h>

#include "node/loop_wake.h"
#include "node/wall_clock.h"
#include "runtime/progress_thread.h"

namespace {

using mpilock::Completion;
using mpilock::CompletionBatch;
using mpilock::LockKind;
using mpilock::ProgressThread;

Napi::ThreadSafeFunction deliveries;
Napi::FunctionReference deliverHere;  // the same JavaScript handler, called on its thread
bool keptAlive = false;

Napi::Object toObject(Napi::Env env, Completion& c) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("type", static_cast<int32_t>(c.type));
  o.Set("token", c.token);
  o.Set("window", c.window);
  o.Set("kind", static_cast<int32_t>(c.lockKind));
  o.Set("seq", c.seq);
  switch (c.type) {
    case Completion::Type::kInit:
      o.Set("rank", c.rank);
      o.Set("size", c.size);
      o.Set("threadLevel", c.threadLevel);
      o.Set("library", c.text);
      o.Set("oneSided", c.oneSided);
      o.Set("oneSidedSetting", c.oneSidedSetting);
      break;
    case Completion::Type::kComm:
      o.Set("rank", c.rank);
      o.Set("size", c.size);
      break;
    case Completion::Type::kFetched:  // low: the slot's value before the add
    case Completion::Type::kAgree:
      o.Set("low", Napi::Number::New(env, static_cast<double>(c.low)));
      o.Set("high", Napi::Number::New(env, static_cast<double>(c.high)));
      break;
    case Completion::Type::kCounters: {
      Napi::Object state = Napi::Object::New(env);
      state.Set("readers", Napi::Number::New(env, static_cast<double>(c.state[0])));
      state.Set("writer", Napi::Number::New(env, static_cast<double>(c.state[1])));
      state.Set("writersQueued", Napi::Number::New(env, static_cast<double>(c.state[2])));
      state.Set("phase", Napi::Number::New(env, static_cast<double>(c.state[3])));
      o.Set("state", state);
      break;
    }
    case Completion::Type::kError:
      o.Set("message", c.text);
      break;
    case Completion::Type::kWindowCreated:  // low: 1 when the node lock serves the window
      o.Set("nodeLock", c.low == 1);
      o.Set("entries", Napi::Number::New(env, static_cast<double>(c.high)));
      o.Set("message", c.text);  // why not, when it was asked for
      break;
    case Completion::Type::kBroadcast:
      if (c.payload) {
        auto* bytes = c.payload.release();
        o.Set("payload", Napi::Buffer<uint8_t>::New(
                             env, bytes->data(), bytes->size(),
                             [](Napi::Env, uint8_t*, mpilock::Payload* p) { delete p; }, bytes));
      }
      break;
    default:
      break;
  }
  return o;
}

void deliverBatch(Napi::Env env, Napi::Function callback, CompletionBatch* batch) {
  if (env != nullptr && callback != nullptr) {
    Napi::Array array = Napi::Array::New(env, batch->size());
    for (size_t i = 0; i < batch->size(); ++i) array.Set(i, toObject(env, (*batch)[i]));
    try {
      callback.Call({array});
    } catch (const Napi::Error& e) {
      // A throwing JavaScript handler must not unwind through the thread-safe function
      // (std::terminate): hand it to Node as an uncaught exception. During teardown
      // there is no exception value, and nothing left to tell.
      if (!e.Value().IsEmpty()) napi_fatal_exception(env, e.Value());
    }
  }
  delete batch;
}

void shutdownRuntime(void*) { ProgressThread::instance().shutdown(); }

Napi::Value Start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto& thread = ProgressThread::instance();
  if (thread.started()) return Napi::Boolean::New(env, false);
  Napi::Object opts = info[1].As<Napi::Object>();
  mpilock::ProgressOptions options;
  auto micros = [&](const char* key, std::chrono::microseconds fallback) {
    Napi::Value v = opts.Get(key);
    return v.IsNumber() ? std::chrono::microseconds(v.As<Napi::Number>().Int64Value()) : fallback;
  };
  options.minBackoff = micros("minBackoffUs", options.minBackoff);
  options.maxBackoff = micros("maxBackoffUs", options.maxBackoff);
  options.idleProgress = micros("idleProgressUs", options.idleProgress);
  Napi::Value bias = opts.Get("biasedReads");
  if (bias.IsBoolean()) options.biasedReads = bias.As<Napi::Boolean>();
  Napi::Value nodeLock = opts.Get("nodeLock");
  if (nodeLock.IsBoolean()) options.nodeLock = nodeLock.As<Napi::Boolean>();
  Napi::Value loopWake = opts.Get("loopWake");
  if (loopWake.IsBoolean()) options.loopWake = loopWake.As<Napi::Boolean>();
  deliveries = Napi::ThreadSafeFunction::New(env, info[0].As<Napi::Function>(), "mpilock", 0, 1);
  deliverHere = Napi::Persistent(info[0].As<Napi::Function>());
  deliveries.Ref(env);  // until the init completion arrives
  keptAlive = true;
  napi_add_env_cleanup_hook(env, shutdownRuntime, nullptr);
  thread.start(
      [](CompletionBatch&& batch) {
        auto* owned = new CompletionBatch(std::move(batch));
        if (deliveries.NonBlockingCall(owned, deliverBatch) != napi_ok) delete owned;
      },
      options);
  return Napi::Boolean::New(env, true);
}

// The event loop stays alive only while JavaScript waits for a completion.
Napi::Value KeepAlive(const Napi::CallbackInfo& info) {
  bool on = info[0].As<Napi::Boolean>();
  if (on != keptAlive && deliveries) {
    on ? deliveries.Ref(info.Env()) : deliveries.Unref(info.Env());
    keptAlive = on;
  }
  return info.Env().Undefined();
}

uint32_t u32(const Napi::CallbackInfo& info, size_t i);
int32_t i32(const Napi::CallbackInfo& info, size_t i);

// watchNodeWake(window): true when the window's node lock wakes this thread itself.
Napi::Value WatchNodeWake(const Napi::CallbackInfo& info) {
  int32_t id = i32(info, 0);
  bool on = mpilock::LoopWake::watch(
      info.Env(), id, ProgressThread::instance().nodeLevelOf(id),
      [](Napi::Env env, CompletionBatch* batch) { deliverBatch(env, deliverHere.Value(), batch); });
  return Napi::Boolean::New(info.Env(), on);
}

// nudge(window): true when the other ranks of the node were told to look again.
Napi::Value Nudge(const Napi::CallbackInfo& info) {
  bool sent = mpilock::LoopWake::nudge(ProgressThread::instance().nodeLevelOf(i32(info, 0)));
  return Napi::Boolean::New(info.Env(), sent);
}

Napi::Value UnwatchNodeWake(const Napi::CallbackInfo& info) {
  mpilock::LoopWake::unwatch(i32(info, 0));
  return info.Env().Undefined();
}

uint32_t u32(const Napi::CallbackInfo& info, size_t i) {
  return info[i].As<Napi::Number>().Uint32Value();
}
int32_t i32(const Napi::CallbackInfo& info, size_t i) {
  return info[i].As<Napi::Number>().Int32Value();
}
LockKind kindAt(const Napi::CallbackInfo& info, size_t i) {
  return i32(info, i) == static_cast<int32_t>(LockKind::kWrite) ? LockKind::kWrite
                                                                : LockKind::kRead;
}

// createWindow(token, window, master, comm, count): a lock table of `count` entries, ids
// window .. window + count - 1 (lock/lock_table.h)
Napi::Value CreateWindow(const Napi::CallbackInfo& info) {
  int count = info[4].IsNumber() ? i32(info, 4) : 1;
  ProgressThread::instance().createWindow(u32(info, 0), i32(info, 1), count, i32(info, 2),
                                          i32(info, 3));
  return info.Env().Undefined();
}

// resources() -> what this process made and holds (ProgressThread::Resources)
Napi::Value Resources(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto r = ProgressThread::resources();
  Napi::Object o = Napi::Object::New(env);
  auto set = [&](const char* key, int64_t v) {
    o.Set(key, Napi::Number::New(env, static_cast<double>(v)));
  };
  set("windowsLive", r.windowsLive);
  set("windowsMade", r.windowsMade);
  set("entriesLive", r.entriesLive);
  set("nodeSplits", r.nodeSplits);
  set("segmentsMapped", r.segmentsMapped);
  return o;
}

// splitComm(token, parent, id, shared, color | null, key, valid): null color is MPI_UNDEFINED
Napi::Value SplitComm(const Napi::CallbackInfo& info) {
  auto how = info[3].As<Napi::Boolean>().Value() ? mpilock::SplitCommOp::How::kShared
                                                 : mpilock::SplitCommOp::How::kColor;
  int color = info[4].IsNumber() ? i32(info, 4) : MPI_UNDEFINED;
  ProgressThread::instance().splitComm(u32(info, 0), i32(info, 1), i32(info, 2), how, color,
                                       i32(info, 5), info[6].As<Napi::Boolean>().Value());
  return info.Env().Undefined();
}

Napi::Value FreeComm(const Napi::CallbackInfo& info) {
  ProgressThread::instance().freeComm(u32(info, 0), i32(info, 1));
  return info.Env().Undefined();
}

Napi::Value FreeWindow(const Napi::CallbackInfo& info) {
  ProgressThread::instance().freeWindow(u32(info, 0), i32(info, 1));
  return info.Env().Undefined();
}

Napi::Value Barrier(const Napi::CallbackInfo& info) {
  ProgressThread::instance().barrier(u32(info, 0), i32(info, 1));
  return info.Env().Undefined();
}

Napi::Value Agree(const Napi::CallbackInfo& info) {
  ProgressThread::instance().agree(u32(info, 0), i32(info, 1),
                                   info[2].As<Napi::Number>().Int64Value());
  return info.Env().Undefined();
}

// broadcast(token, window, root, payload: Uint8Array | null, chunkBytes). The root's
// payload must stay referenced by JavaScript until the completion arrives.
Napi::Value Broadcast(const Napi::CallbackInfo& info) {
  const uint8_t* data = nullptr;
  size_t size = 0;
  if (info[3].IsTypedArray()) {
    auto bytes = info[3].As<Napi::Uint8Array>();
    data = bytes.Data();
    size = bytes.ByteLength();
  }
  auto chunk = static_cast<size_t>(info[4].As<Napi::Number>().Int64Value());
  ProgressThread::instance().broadcast(u32(info, 0), i32(info, 1), i32(info, 2), data, size, chunk);
  return info.Env().Undefined();
}

// beginLock(window, kind, seq, jsPolls) -> Pending (protocol.h)
Napi::Value BeginLock(const Napi::CallbackInfo& info) {
  auto pending = ProgressThread::instance().beginLock(i32(info, 0), kindAt(info, 1), u32(info, 2),
                                                      info[3].As<Napi::Boolean>().Value());
  return Napi::Number::New(info.Env(), static_cast<int32_t>(pending));
}

// pollLock(window, kind, seq, handOver) -> Pending
Napi::Value PollLock(const Napi::CallbackInfo& info) {
  auto pending = ProgressThread::instance().pollLock(i32(info, 0), kindAt(info, 1), u32(info, 2),
                                                     info[3].As<Napi::Boolean>().Value());
  return Napi::Number::New(info.Env(), static_cast<int32_t>(pending));
}

// tryLock(window, kind, seq) -> Pending: kThreadPolls, kGranted, kBusy or kWithdrawing
Napi::Value TryLock(const Napi::CallbackInfo& info) {
  auto pending = ProgressThread::instance().tryLock(i32(info, 0), kindAt(info, 1), u32(info, 2));
  return Napi::Number::New(info.Env(), static_cast<int32_t>(pending));
}

Napi::Value EndLock(const Napi::CallbackInfo& info) {
  ProgressThread::instance().endLock(i32(info, 0), kindAt(info, 1),
                                     info[2].As<Napi::Boolean>().Value());
  return info.Env().Undefined();
}

Napi::Value WithdrawLock(const Napi::CallbackInfo& info) {
  ProgressThread::instance().withdrawLock(i32(info, 0), kindAt(info, 1), u32(info, 2));
  return info.Env().Undefined();
}

Napi::Value SampleCounters(const Napi::CallbackInfo& info) {
  ProgressThread::instance().sampleCounters(
      i32(info, 0), std::chrono::microseconds(info[1].As<Napi::Number>().Int64Value()));
  return info.Env().Undefined();
}

// createSlots(token, id, root, parentWindow, count)
Napi::Value CreateSlots(const Napi::CallbackInfo& info) {
  ProgressThread::instance().createSlots(u32(info, 0), i32(info, 1), i32(info, 2), i32(info, 3),
                                         i32(info, 4));
  return info.Env().Undefined();
}

Napi::Value FreeSlots(const Napi::CallbackInfo& info) {
  ProgressThread::instance().freeSlots(u32(info, 0), i32(info, 1));
  return info.Env().Undefined();
}

// fetchAdd(token, id, slot, delta) -> the value before the add, or null: kFetched follows
Napi::Value FetchAdd(const Napi::CallbackInfo& info) {
  int64_t old = 0;
  bool done = ProgressThread::instance().fetchAdd(u32(info, 0), i32(info, 1), i32(info, 2),
                                                  info[3].As<Napi::Number>().Int64Value(), &old);
  if (!done) return info.Env().Null();
  return Napi::Number::New(info.Env(), static_cast<double>(old));
}

Napi::Value Shutdown(const Napi::CallbackInfo& info) {
  ProgressThread::instance().shutdown();
  return info.Env().Undefined();
}

Napi::Value WallClockOffset(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), mpilock::wallClockOffsetMs());
}

Napi::Value Abort(const Napi::CallbackInfo& info) {
  ProgressThread::instance().abort(i32(info, 0));
  return info.Env().Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("start", Napi::Function::New(env, Start));
  exports.Set("keepAlive", Napi::Function::New(env, KeepAlive));
  exports.Set("createWindow", Napi::Function::New(env, CreateWindow));
  exports.Set("freeWindow", Napi::Function::New(env, FreeWindow));
  exports.Set("resources", Napi::Function::New(env, Resources));
  exports.Set("splitComm", Napi::Function::New(env, SplitComm));
  exports.Set("freeComm", Napi::Function::New(env, FreeComm));
  exports.Set("barrier", Napi::Function::New(env, Barrier));
  exports.Set("agree", Napi::Function::New(env, Agree));
  exports.Set("broadcast", Napi::Function::New(env, Broadcast));
  exports.Set("beginLock", Napi::Function::New(env, BeginLock));
  exports.Set("pollLock", Napi::Function::New(env, PollLock));
  exports.Set("watchNodeWake", Napi::Function::New(env, WatchNodeWake));
  exports.Set("unwatchNodeWake", Napi::Function::New(env, UnwatchNodeWake));
  exports.Set("nudge", Napi::Function::New(env, Nudge));
  exports.Set("tryLock", Napi::Function::New(env, TryLock));
  exports.Set("endLock", Napi::Function::New(env, EndLock));
  exports.Set("withdrawLock", Napi::Function::New(env, WithdrawLock));
  exports.Set("sampleCounters", Napi::Function::New(env, SampleCounters));
  exports.Set("createSlots", Napi::Function::New(env, CreateSlots));
  exports.Set("freeSlots", Napi::Function::New(env, FreeSlots));
  exports.Set("fetchAdd", Napi::Function::New(env, FetchAdd));
  exports.Set("shutdown", Napi::Function::New(env, Shutdown));
  exports.Set("wallClockOffset", Napi::Function::New(env, WallClockOffset));
  exports.Set("abort", Napi::Function::New(env, Abort));
  return exports;
}

}  // namespace

NODE_API_MODULE(mpilock, Init)
