/**
 * A framed single-producer/single-consumer ring over a SharedArrayBuffer: the byte path between two
 * threads (one encoded batch or control element per frame).
 *
 *   const sab = allocateRing({ capacityBytes: 1 << 20 });      // send `sab` to the other thread
 *   const writer = openRingWriter(sab);                        // on the producing thread
 *   if (!writer.tryWrite(bytes)) await waitWritable(writer, bytes.length, {}); // then try again
 *   const reader = openRingReader(sab);                        // on the consuming thread
 *   const frame = reader.tryRead();                            // a copy, or undefined when empty
 *
 * Contract:
 * - Exactly one writer and one reader per ring, each used from one thread. Frames come out in the
 *   order they went in, byte for byte; a frame is never split.
 * - `tryWrite` never blocks: it returns false when the frame does not fit now (the caller waits and
 *   tries again — backpressure, memory stays bounded by the ring). A frame larger than
 *   `maxFrameBytes` (a little under half the capacity) throws RING_FRAME_TOO_LARGE: it would not fit
 *   even in an empty ring in every position, so waiting could deadlock.
 * - `tryRead` returns a copy; `tryReadInto` copies into the caller's buffer; `peek` + `consume`
 *   read in place (the view is valid until `consume`). Decoders that hand the ring's memory to
 *   native code may refuse shared memory: msgpackr's native string extractor does ("Unexpected end
 *   of buffer"), so msgpackr decodes from a copy (`tryReadInto` a reused buffer).
 *
 * Layout (Int32 words; all positions are byte offsets):
 *   word 0            head: free-running count of bytes the reader has released (reader-owned)
 *   word 8            capacity in bytes (a power of two; written once), checked when a side opens
 *   word 16           tail: free-running count of bytes the writer has published (writer-owned)
 *   bytes 128..       the data region, `capacity` bytes
 * Head and tail sit 64 bytes apart so the two threads do not write the same cache line. They wrap
 * at 2^32 (kept as int32); with a power-of-two capacity `count & (capacity - 1)` is the position
 * and `(tail - head) | 0` the bytes in use, across the wrap.
 *
 * A frame is a 4-byte length (an Int32 word, platform byte order) followed by the bytes, padded
 * to a multiple of 4. When a frame does not fit between its position and the end of the data
 * region, the writer puts the WRAP marker (length -1) there and writes the frame at the start;
 * the skipped bytes count as used until the reader passes them. Both are published by one store
 * of `tail`, so a reader that sees a marker always finds the frame at the start. Writes to the
 * data region happen before the `Atomics.store` of tail (or head) that publishes them, and the
 * other side reads them after its `Atomics.load`, which orders them (JavaScript's memory model:
 * seq-cst atomics synchronise).
 *
 * Waiting is in ring-wait.ts: a side that cannot go on waits for the other side's index to change
 * (`Atomics.waitAsync`); every publish calls `Atomics.notify` on its index.
 */
import { internalError } from "../../common/errors.ts";

const HEAD = 0;
const TAIL = 16;
const CAPACITY = 8;
const DATA = 128;
const WRAP = -1;
const LENGTH_BYTES = 4;
const MIN_CAPACITY = 64;
const MAX_CAPACITY = 1 << 30;

/** Word indices of the two counters, for waiting on them. */
export const RING_HEAD_INDEX = HEAD;
export const RING_TAIL_INDEX = TAIL;

/** Bytes a frame of `length` bytes takes in the ring: its length word plus the bytes, padded to 4. */
export const frameSpan = (length: number): number => (LENGTH_BYTES + length + 3) & ~3;

/** The largest frame a ring of `capacityBytes` accepts (its span is at most half the capacity). */
export const maxFrameBytes = (capacityBytes: number): number => capacityBytes / 2 - LENGTH_BYTES;

/** A shared buffer holding an empty ring with `capacityBytes` (a power of two, 64 B .. 1 GiB) of data. */
export const allocateRing = (options: { readonly capacityBytes: number }): SharedArrayBuffer => {
  const capacity = options.capacityBytes;
  if (!Number.isInteger(capacity) || capacity < MIN_CAPACITY || capacity > MAX_CAPACITY || (capacity & (capacity - 1)) !== 0) {
    throw internalError("BAD_RING_CAPACITY", `ring capacity must be a power of two from ${MIN_CAPACITY} to ${MAX_CAPACITY} bytes, got ${capacity}`);
  }
  const sab = new SharedArrayBuffer(DATA + capacity);
  new Int32Array(sab)[CAPACITY] = capacity;
  return sab;
};

/** The parts both ends share; the fields are for ring-wait.ts and tests, not for callers. */
abstract class RingEnd {
  readonly words: Int32Array;
  protected readonly bytes: Uint8Array;
  readonly capacity: number;
  protected readonly mask: number;
  readonly maxFrameBytes: number;

  constructor(sab: SharedArrayBuffer) {
    this.words = new Int32Array(sab);
    this.bytes = new Uint8Array(sab);
    const capacity = Atomics.load(this.words, CAPACITY);
    if (capacity < MIN_CAPACITY || sab.byteLength !== DATA + capacity) {
      throw internalError("BAD_RING_BUFFER", `not a ring made by allocateRing (${sab.byteLength} bytes, capacity word ${capacity})`);
    }
    this.capacity = capacity;
    this.mask = capacity - 1;
    this.maxFrameBytes = maxFrameBytes(capacity);
  }

  /** Bytes in use right now (frames, their padding and skipped ends), as seen from this side. */
  usedBytes(): number {
    return (Atomics.load(this.words, TAIL) - Atomics.load(this.words, HEAD)) | 0;
  }
}

/** The producing end. Not safe to share between two producers. */
export class RingWriter extends RingEnd {
  private tail: number;

  constructor(sab: SharedArrayBuffer) {
    super(sab);
    this.tail = Atomics.load(this.words, TAIL);
  }

  /** The tail as last published (what a waiting reader compares against). */
  get published(): number {
    return this.tail;
  }

  /**
   * Bytes that must be free for a frame of `length` to be written now: its span, plus the end of
   * the data region it would skip.
   */
  private needed(length: number): number {
    const span = frameSpan(length);
    const toEnd = this.capacity - (this.tail & this.mask);
    return toEnd < span ? toEnd + span : span;
  }

  /** Whether a frame of `length` bytes would fit now. */
  canWrite(length: number): boolean {
    this.checkLength(length);
    return this.needed(length) <= this.capacity - ((this.tail - Atomics.load(this.words, HEAD)) | 0);
  }

  /**
   * Appends `frame` and wakes a waiting reader; false (nothing written) when it does not fit now.
   * Throws RING_FRAME_TOO_LARGE for a frame over `maxFrameBytes`.
   */
  tryWrite(frame: Uint8Array): boolean {
    const length = frame.length;
    if (!this.canWrite(length)) return false;
    let at = this.tail & this.mask;
    let tail = this.tail;
    if (this.capacity - at < frameSpan(length)) {
      this.words[(DATA + at) >> 2] = WRAP;
      tail = (tail + (this.capacity - at)) | 0;
      at = 0;
    }
    this.words[(DATA + at) >> 2] = length;
    this.bytes.set(frame, DATA + at + LENGTH_BYTES);
    this.tail = (tail + frameSpan(length)) | 0;
    Atomics.store(this.words, TAIL, this.tail);
    Atomics.notify(this.words, TAIL);
    return true;
  }

  private checkLength(length: number): void {
    if (length > this.maxFrameBytes) {
      throw internalError(
        "RING_FRAME_TOO_LARGE",
        `a frame of ${length} bytes does not fit a ring of ${this.capacity} bytes (at most ${this.maxFrameBytes}); use a larger ring or smaller batches`,
      );
    }
  }
}

/** The consuming end. Not safe to share between two consumers. */
export class RingReader extends RingEnd {
  private head: number;
  /** Counter value just past the frame `peek` returned, or undefined when none is held. */
  private heldEnd: number | undefined;

  constructor(sab: SharedArrayBuffer) {
    super(sab);
    this.head = Atomics.load(this.words, HEAD);
  }

  /** The head as last released (what a waiting writer compares against). */
  get released(): number {
    return this.head;
  }

  /** Whether no frame is ready to read. */
  isEmpty(): boolean {
    return Atomics.load(this.words, TAIL) === this.head;
  }

  /**
   * A view of the next frame's bytes inside the ring, or undefined when empty. The view stays valid
   * (the writer cannot overwrite it) until `consume()`; calling `peek` again returns the same frame.
   */
  peek(): Uint8Array | undefined {
    const tail = Atomics.load(this.words, TAIL);
    if (tail === this.head) return undefined;
    let head = this.head;
    let at = head & this.mask;
    let length = this.words[(DATA + at) >> 2]!;
    if (length === WRAP) {
      head = (head + (this.capacity - at)) | 0;
      at = 0;
      length = this.words[DATA >> 2]!;
    }
    this.heldEnd = (head + frameSpan(length)) | 0;
    const start = DATA + at + LENGTH_BYTES;
    return this.bytes.subarray(start, start + length);
  }

  /** Releases the frame `peek` returned (its bytes become the writer's) and wakes a waiting writer. */
  consume(): void {
    const end = this.heldEnd;
    if (end === undefined) throw internalError("RING_NOTHING_PEEKED", "consume() without a frame from peek()");
    this.heldEnd = undefined;
    this.head = end;
    Atomics.store(this.words, HEAD, end);
    Atomics.notify(this.words, HEAD);
  }

  /**
   * Copies the next frame into the start of `target` and returns its length, or undefined when the
   * ring is empty. No allocation: a reader that decodes from a reused buffer avoids a new
   * ArrayBuffer per frame (measured 3x on the raw transport). Throws RING_TARGET_TOO_SMALL, frame
   * left in the ring, when the frame is longer than `target` (`maxFrameBytes` always suffices).
   */
  tryReadInto(target: Uint8Array): number | undefined {
    const view = this.peek();
    if (view === undefined) return undefined;
    if (view.length > target.length) {
      throw internalError("RING_TARGET_TOO_SMALL", `a frame of ${view.length} bytes does not fit a target of ${target.length} bytes`);
    }
    target.set(view);
    this.consume();
    return view.length;
  }

  /** The next frame as a copy of its bytes, or undefined when the ring is empty. */
  tryRead(): Uint8Array | undefined {
    const view = this.peek();
    if (view === undefined) return undefined;
    const copy = view.slice();
    this.consume();
    return copy;
  }
}

export const openRingWriter = (sab: SharedArrayBuffer): RingWriter => new RingWriter(sab);
export const openRingReader = (sab: SharedArrayBuffer): RingReader => new RingReader(sab);
