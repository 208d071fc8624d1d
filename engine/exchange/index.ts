/**
 * engine/exchange/: moving encoded stream elements between threads (groundwork for issue 13; not
 * wired into the runtime yet).
 *
 * ```ts
 * const sab = allocateRing({ capacityBytes: 1 << 20 });
 * // producing thread
 * const writer = openRingWriter(sab);
 * await writeFrame(writer, encodedBatch, { signal });
 * // consuming thread
 * const reader = openRingReader(sab);
 * const frame = await readFrame(reader, { signal }); // Uint8Array, or "aborted" / "timed-out"
 * ```
 */
export {
  allocateRing,
  openRingReader,
  openRingWriter,
  frameSpan,
  maxFrameBytes,
  RingReader,
  RingWriter,
} from "./spsc-ring.ts";
export { waitReadable, waitWritable, waitWhileEqual, writeFrame, readFrame, type WaitOutcome, type RingWaitOptions } from "./ring-wait.ts";
