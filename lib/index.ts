export { sync } from "./sync.js";
export { WindowController, type LockOptions } from "./controller.js";
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
  InvalidArgumentError,
  LockAbortedError,
  LockTimeoutError,
  MpiError,
  MpiLockError,
  MpiUnavailableError,
} from "./errors.js";
