import { CloseTimeoutError } from "../errors/errors.js";
import type { WindowBackend } from "../runtime/window-backend.js";

/**
 * Runs close()'s `collective`, bounded by `limit` ms: past it, rejects with
 * `ERR_MPILOCK_CLOSE_TIMEOUT` and abandons the backend's collectives in flight (the
 * process then ends the job with MPI_Abort at exit instead of hanging there).
 */
export async function withCloseTimeout(
  limit: number,
  backend: WindowBackend,
  collective: () => Promise<void>,
): Promise<void> {
  if (!Number.isFinite(limit)) return collective();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      backend.abandon();
      reject(new CloseTimeoutError(limit));
    }, limit);
  });
  try {
    await Promise.race([collective(), expired]);
  } finally {
    clearTimeout(timer);
  }
}
