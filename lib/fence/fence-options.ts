/**
 * Options of the callback form, `ctrl.singleWrite(fn, options)`.
 *
 * @example
 * ```ts
 * const size = await ctrl.singleWrite(() => statSync(path).size, { rank: 1 });
 * ```
 */
export interface SingleWriteOptions {
  /** The writer rank; every rank must pass the same. Default: the controller's master. */
  rank?: number;
}

/**
 * Options of the fence form, `ctrl.singleWrite(options)`.
 *
 * @example
 * ```ts
 * await using h = await ctrl.singleWrite({ rank: 0, handle: db });
 * if (h.handle) await h.handle.insert(row); // the writer only
 * ```
 */
export interface FenceOptions<H = null> extends SingleWriteOptions {
  /** Given to the writer as `fence.handle`; the other ranks get `null`. */
  handle?: H;
}
