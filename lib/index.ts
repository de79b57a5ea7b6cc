export { sync, world } from "./sync.js";
export { Communicator } from "./runtime/communicator.js";
export {
  WindowController,
  type LockOptions,
  type TableLock,
  type TryResult,
} from "./lock/controller.js";
export { LockHandle } from "./lock/lock-handle.js";
export { Fence } from "./fence/fence.js";
export type { FenceOptions, SingleWriteOptions } from "./fence/fence-options.js";
export { ToolkitMethods } from "./toolkit/toolkit-methods.js";
export { Counter, type CounterOptions, type CounterSample } from "./toolkit/counter.js";
export { Turn } from "./toolkit/sequential.js";
export {
  Permit,
  Semaphore,
  type SemaphoreOptions,
  type SemaphoreSample,
} from "./toolkit/semaphore.js";
export type { Sampled } from "./toolkit/sample.js";
export { Condition, ConditionLock } from "./toolkit/condition.js";
export type { WaitOptions } from "./toolkit/wait.js";
export type { ToolkitKind } from "./toolkit/track.js";
export { FreedError, NotHeldError, SemaphoreOverflowError } from "./toolkit/toolkit-errors.js";
export {
  FenceError,
  type FenceErrorCode,
  FencedSignal,
  type WriterErrorInfo,
} from "./fence/fence-errors.js";
export type { LockKind } from "./lock/holder.js";
export type { BackendChoice, SyncOptions } from "./config/options.js";
export {
  ClosedError,
  CloseTimeoutError,
  CommFreedError,
  DeadlockError,
  type DeadlockStep,
  ForeignCommError,
  InvalidArgumentError,
  LockAbortedError,
  LockTimeoutError,
  MpiError,
  MpiLockError,
  MpiMismatchError,
  MpiUnavailableError,
  SelfDeadlockError,
} from "./errors/errors.js";
export type { EventKind, LockEvent } from "./observe/lock-events.js";
export type { KindStats, LockStats } from "./observe/lock-stats.js";
export type { LockState } from "./observe/state-observer.js";
export { formatSnapshot, type JobSnapshot } from "./observe/snapshot.js";
export type { LockId, RankSnapshot, TaskEntry } from "./observe/wait-registry.js";
export type { IterateOptions, ObservableIterator } from "./observe/async-iterable.js";
export {
  chromeTrace,
  spansOf,
  timelineSvg,
  type ChromeTrace,
  type ChromeTraceEvent,
  type TraceSpan,
} from "./observe/trace/chrome-trace.js";
