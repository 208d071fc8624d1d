/**
 * Waiting on a ring without blocking the event loop: the reader waits for data, the writer for
 * space, each with `Atomics.waitAsync` on the other side's counter.
 *
 *   while (!writer.tryWrite(frame)) {
 *     const outcome = await waitWritable(writer, frame.length, { signal });
 *     if (outcome !== "ready") break;                 // "aborted" or "timed-out"
 *   }
 *
 * Why not `Atomics.wait`: it blocks the whole thread, so timers, sockets and RocksDB callbacks
 * of the waiting thread stall. `Atomics.waitAsync` returns a promise instead, with two caveats
 * on Node 20 that this module handles:
 * - It does not keep the event loop alive (nodejs/node#44729): a thread whose only pending work is
 *   a waitAsync exits (or a worker goes idle and never wakes). So each wait holds a ref'd timer
 *   (its timeout, or one that never fires) until it settles. Pass `keepAlive: false` when the
 *   caller keeps the loop alive itself (a ref'd MessagePort, a socket) and wants a dead peer to let
 *   the thread exit.
 * - It may resolve synchronously (`{ async: false }`, when the value already differs); that is
 *   returned as a settled promise, and the loops below re-check the ring first anyway.
 *
 * A peer that died never notifies: watch the Worker's `exit` event and abort the wait with the
 * signal, or pass a timeout. A wait that ends by timeout or abort wakes its own stale waiter
 * (`Atomics.notify` on the index only this side waits on), so no waiter outlives it.
 */
import { RING_HEAD_INDEX, RING_TAIL_INDEX, type RingReader, type RingWriter } from "./spsc-ring.ts";

export type WaitOutcome = "ready" | "timed-out" | "aborted";

export interface RingWaitOptions {
  /** Give up after this many milliseconds (default: never). */
  readonly timeoutMs?: number;
  /** Give up when this signal aborts (for example when the peer thread exited). */
  readonly signal?: AbortSignal;
  /** Hold a ref'd timer while waiting so the event loop stays alive (default true). */
  readonly keepAlive?: boolean;
}

type WaitAsyncResult = { async: false; value: "not-equal" | "timed-out" } | { async: true; value: Promise<"ok" | "timed-out"> };
// Atomics.waitAsync is in Node 20 but in TypeScript's ES2024 lib, past this project's ES2023.
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, index: number, value: number): WaitAsyncResult }).waitAsync;

/** setTimeout's largest delay; a wait without timeout re-arms after it. */
const NEVER_MS = 2 ** 31 - 1;

/**
 * Resolves "ready" once `words[index]` may differ from `observed` (a notify came, or it already
 * differed), "timed-out" or "aborted" otherwise. Spurious "ready" is allowed: callers re-check.
 */
export const waitWhileEqual = (words: Int32Array, index: number, observed: number, options: RingWaitOptions): Promise<WaitOutcome> => {
  if (options.signal?.aborted === true) return Promise.resolve("aborted");
  const result = waitAsync(words, index, observed);
  if (!result.async) return Promise.resolve(result.value === "not-equal" ? "ready" : "timed-out");
  return new Promise<WaitOutcome>((resolve) => {
    let settled = false;
    const finish = (outcome: WaitOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      if (outcome !== "ready") Atomics.notify(words, index);
      resolve(outcome);
    };
    const onAbort = () => finish("aborted");
    const timeout = options.timeoutMs;
    const timer =
      timeout === undefined
        ? setInterval(() => {}, NEVER_MS)
        : setTimeout(() => finish("timed-out"), Math.min(Math.max(0, timeout), NEVER_MS));
    if (options.keepAlive === false) timer.unref();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    void result.value.then(() => finish("ready"));
  });
};

/** Resolves "ready" once the ring holds a frame (at once if it does), or "timed-out"/"aborted". */
export const waitReadable = async (reader: RingReader, options: RingWaitOptions): Promise<WaitOutcome> => {
  const deadline = options.timeoutMs === undefined ? undefined : performance.now() + options.timeoutMs;
  for (;;) {
    const tail = Atomics.load(reader.words, RING_TAIL_INDEX);
    if (tail !== reader.released) return "ready";
    const outcome = await waitWhileEqual(reader.words, RING_TAIL_INDEX, tail, remaining(options, deadline));
    if (outcome !== "ready") return outcome;
  }
};

/**
 * Resolves "ready" once a frame of `length` bytes fits (at once if it does), or "timed-out"/"aborted".
 * Throws RING_FRAME_TOO_LARGE like `tryWrite` for a frame that never fits.
 */
export const waitWritable = async (writer: RingWriter, length: number, options: RingWaitOptions): Promise<WaitOutcome> => {
  const deadline = options.timeoutMs === undefined ? undefined : performance.now() + options.timeoutMs;
  for (;;) {
    const head = Atomics.load(writer.words, RING_HEAD_INDEX);
    if (writer.canWrite(length)) return "ready";
    const outcome = await waitWhileEqual(writer.words, RING_HEAD_INDEX, head, remaining(options, deadline));
    if (outcome !== "ready") return outcome;
  }
};

const remaining = (options: RingWaitOptions, deadline: number | undefined): RingWaitOptions =>
  deadline === undefined ? options : { ...options, timeoutMs: Math.max(0, deadline - performance.now()) };

/** Writes `frame`, waiting for space as long as needed: "ready" once written, else why not (`timeoutMs` bounds the wait). */
export const writeFrame = async (writer: RingWriter, frame: Uint8Array, options: RingWaitOptions): Promise<WaitOutcome> => {
  while (!writer.tryWrite(frame)) {
    const outcome = await waitWritable(writer, frame.length, options);
    if (outcome !== "ready") return outcome;
  }
  return "ready";
};

/** The next frame (a copy), waiting for one as long as needed; "timed-out"/"aborted" if none came. */
export const readFrame = async (reader: RingReader, options: RingWaitOptions): Promise<Uint8Array | Exclude<WaitOutcome, "ready">> => {
  for (;;) {
    const frame = reader.tryRead();
    if (frame !== undefined) return frame;
    const outcome = await waitReadable(reader, options);
    if (outcome !== "ready") return outcome;
  }
};
