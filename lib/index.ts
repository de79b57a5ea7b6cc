export { sync } from "./sync.js";
export { WindowController, type LockOptions } from "./controller.js";
export { LockHandle } from "./lock-handle.js";
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
