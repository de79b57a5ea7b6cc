export { sync, world } from "./sync.js";
export { Communicator } from "./communicator.js";
export { WindowController, type LockOptions, type TryResult } from "./controller.js";
export { LockHandle } from "./lock-handle.js";
export { Fence, type FenceOptions, type SingleWriteOptions } from "./fence.js";
export {
  FenceError,
  type FenceErrorCode,
  FencedSignal,
  type WriterErrorInfo,
} from "./fence-errors.js";
export type { LockKind } from "./holder.js";
export type { BackendChoice, SyncOptions } from "./options.js";
export {
  ClosedError,
  CloseTimeoutError,
  CommFreedError,
  ForeignCommError,
  InvalidArgumentError,
  LockAbortedError,
  LockTimeoutError,
  MpiError,
  MpiLockError,
  MpiMismatchError,
  MpiUnavailableError,
} from "./errors.js";
export type { EventKind, LockEvent } from "./lock-events.js";
export type { KindStats, LockStats } from "./lock-stats.js";
export type { LockState } from "./observer.js";
export type { IterateOptions, ObservableIterator } from "./async-iterable.js";
export {
  chromeTrace,
  spansOf,
  timelineSvg,
  type ChromeTrace,
  type ChromeTraceEvent,
  type TraceSpan,
} from "./trace.js";
