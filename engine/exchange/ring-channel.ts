/**
 * A channel whose two ends live on different threads: stream elements encoded as frames
 * (element-codec.ts) in a shared-memory ring (spsc-ring.ts).
 *
 *   const sab = allocateRing({ capacityBytes: RING_CHANNEL_BYTES });   // made once, sent to both threads
 *   const writer = new RingChannelWriter(sab, { signal, consumerName });  // producing thread (an Output's channel)
 *   const reader = new RingChannelReader(sab, { signal });                // consuming thread (an InputGate's channel)
 *
 * Contract (as engine/channel.ts's Channel, across threads):
 * - Elements come out in the order they went in; a batch whose frame is larger than the ring allows
 *   is split into several batches in order (records never reorder, never split). A single record
 *   too large for the ring fails with EXCHANGE_RECORD_TOO_LARGE (a user error naming the consumer).
 * - Backpressure: `push` returns undefined when the frame fit, otherwise a promise that settles once
 *   it was written; memory stays bounded by the ring. Capacity counts bytes, not batches.
 * - Barriers, watermarks, idleness and end of input travel in the same ring, in band.
 * - `signal` (aborted at teardown or when the peer thread died) ends every wait: a push then never
 *   settles and `onReadable` never calls back, like an in-thread channel whose peer went away.
 */
import { describeError, userError } from "../../common/errors.ts";
import type { ChannelReader, ChannelWriter } from "../channel.ts";
import { batchOf, type StreamElement } from "../elements.ts";
import { decodeElement, encodeBatch, encodeControl, newBatchDecoder, newBatchEncoder, stamp, type BatchDecoder, type BatchEncoder } from "./element-codec.ts";
import { waitReadable, writeFrame } from "./ring-wait.ts";
import { RingReader, RingWriter } from "./spsc-ring.ts";

/** Ring size of a channel between threads (a frame may take up to half of it), up to 64 such channels. */
export const RING_CHANNEL_BYTES = 1 << 20;
/** The smallest ring: a single record may be up to ~128 KiB encoded. */
export const MIN_RING_CHANNEL_BYTES = 1 << 18;
/** Shared memory all the rings of a run may take before each is made smaller. */
const RINGS_BUDGET_BYTES = 64 << 20;

/**
 * The ring size for a run with `channels` channels that cross threads: 1 MiB each up to 64, then
 * smaller (a power of two, at least 256 KiB), so memory grows with P² far slower at high parallelism.
 */
export const ringBytesFor = (channels: number): number => {
  let bytes = RING_CHANNEL_BYTES;
  while (bytes > MIN_RING_CHANNEL_BYTES && bytes * channels > RINGS_BUDGET_BYTES) bytes /= 2;
  return bytes;
};

/** One decode buffer per thread (decoding is synchronous), grown to the largest frame seen. */
let scratch = new Uint8Array(0);
const scratchFor = (bytes: number): Uint8Array => {
  if (scratch.length < bytes) scratch = new Uint8Array(bytes);
  return scratch;
};

export interface RingChannelOptions {
  readonly signal: AbortSignal;
}

export class RingChannelWriter implements ChannelWriter<unknown> {
  private readonly ring: RingWriter;
  private readonly encoder: BatchEncoder = newBatchEncoder();
  private readonly signal: AbortSignal;
  private readonly consumerName: string;

  constructor(sab: SharedArrayBuffer, options: RingChannelOptions & { readonly consumerName: string }) {
    this.ring = new RingWriter(sab);
    this.signal = options.signal;
    this.consumerName = options.consumerName;
  }

  push(element: StreamElement<unknown>): Promise<void> | undefined {
    if (element.kind !== "batch") return this.write(encodeControl(element), true);
    const { records, timestamps } = element;
    const frame = this.encode(records, timestamps);
    if (frame.length <= this.ring.maxFrameBytes) return this.write(frame, false);
    // Columns can be larger than msgpack (UTF-16 text, float64 numbers): try msgpack before splitting.
    const packed = stamp(this.encoder.packr.pack(records), timestamps);
    if (packed.length <= this.ring.maxFrameBytes) return this.write(packed, false);
    return this.pushInParts(records, timestamps);
  }

  /** Writes a frame; `owned` frames need no copy when they must wait (the encoder's buffer does). */
  private write(frame: Uint8Array, owned: boolean): Promise<void> | undefined {
    if (this.ring.tryWrite(frame)) return undefined;
    return this.waitAndWrite(owned ? frame : frame.slice());
  }

  private async waitAndWrite(frame: Uint8Array): Promise<void> {
    const outcome = await writeFrame(this.ring, frame, { signal: this.signal });
    if (outcome !== "ready") await new Promise<never>(() => undefined); // torn down: never settles
  }

  /** The batch's frame; a record msgpackr cannot encode (a symbol, a cycle) is a user error naming the consumer. */
  private encode(records: readonly unknown[], timestamps?: readonly number[]): Uint8Array {
    try {
      return encodeBatch(this.encoder, records, timestamps);
    } catch (e) {
      throw userError(
        "EXCHANGE_RECORD_NOT_ENCODABLE",
        `a record for '${this.consumerName}' cannot cross to another thread: ${describeError(e)}. Records must be plain data (objects, arrays, strings, numbers, bigint, Date, Map, Set; no symbols, functions or cycles), or run with --workers 0`,
        { operator: this.consumerName, cause: e },
      );
    }
  }

  /** A batch too large for one frame, as consecutive halves (in order). */
  private async pushInParts(records: readonly unknown[], timestamps: readonly number[] | undefined): Promise<void> {
    if (records.length === 1) {
      const bytes = Math.min(this.encode(records).length, this.encoder.packr.pack(records).length);
      throw userError(
        "EXCHANGE_RECORD_TOO_LARGE",
        `a record for '${this.consumerName}' is ${bytes} bytes encoded, more than a channel between threads carries (${this.ring.maxFrameBytes}); make records smaller or run with --workers 0`,
        { operator: this.consumerName },
      );
    }
    const half = records.length >> 1;
    const first = timestamps === undefined ? batchOf(records.slice(0, half)) : batchOf(records.slice(0, half), timestamps.slice(0, half));
    const second = timestamps === undefined ? batchOf(records.slice(half)) : batchOf(records.slice(half), timestamps.slice(half));
    for (const part of [first, second]) {
      const pending = this.push(part);
      if (pending !== undefined) await pending;
    }
  }
}

export class RingChannelReader implements ChannelReader<unknown> {
  private readonly ring: RingReader;
  private readonly decoder: BatchDecoder = newBatchDecoder();
  private readonly signal: AbortSignal;
  private peeked: StreamElement<unknown> | undefined;
  private callback: (() => void) | undefined;
  private waiting = false;

  constructor(sab: SharedArrayBuffer, options: RingChannelOptions) {
    this.ring = new RingReader(sab);
    this.signal = options.signal;
  }

  peek(): StreamElement<unknown> | undefined {
    this.peeked ??= this.read();
    return this.peeked;
  }

  poll(): StreamElement<unknown> | undefined {
    const element = this.peeked ?? this.read();
    this.peeked = undefined;
    return element;
  }

  onReadable(callback: () => void): void {
    if (this.peeked !== undefined || !this.ring.isEmpty()) {
      callback();
      return;
    }
    this.callback = callback;
    if (this.waiting) return;
    this.waiting = true;
    void waitReadable(this.ring, { signal: this.signal }).then((outcome) => {
      this.waiting = false;
      if (outcome !== "ready") return;
      const cb = this.callback;
      this.callback = undefined;
      cb?.();
    });
  }

  private read(): StreamElement<unknown> | undefined {
    const view = this.ring.peek();
    if (view === undefined) return undefined;
    // msgpackr decodes from a private copy (its string extractor refuses shared memory).
    const copy = scratchFor(view.length);
    copy.set(view);
    this.ring.consume();
    return decodeElement(this.decoder, copy.subarray(0, view.length));
  }
}
