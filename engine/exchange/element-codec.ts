/**
 * Stream elements as bytes, for channels that cross a thread (ring-channel.ts).
 *
 * A record batch of same-shaped plain objects is a column frame (column-codec.ts: numbers,
 * strings and booleans as typed columns, several times faster to encode and decode). Any other
 * batch is its records array packed by msgpackr with record structures (`useRecords`: an object
 * shape is written once per frame, then referenced), `moreTypes` for Map, Set, Date and typed
 * arrays, as keyed state is. Control elements (watermark, idle, barrier, end) and column frames
 * start with 0xC1, a byte msgpack never uses, then their kind, so the kinds never mix up. A batch
 * whose records carry timestamps (operators/timestamps.ts) is a stamped frame: 0xC1, STAMPED,
 * two spare bytes, u32 count, count float64 timestamps (NaN: none), then the batch's own frame
 * (which so starts 8-byte aligned when the stamped frame does).
 *
 * Contract: `decodeElement(encodeElement(e))` equals `e` for records that msgpackr round-trips (plain
 * data: no functions, no class instances; `undefined` fields survive). The bytes `encodeBatch` returns
 * may be the encoder's reused buffer: copy or consume them before the next call on the same encoder.
 */
import { Packr, Unpackr } from "msgpackr";
import { internalError } from "../../common/errors.ts";
import type { StreamElement } from "../elements.ts";
import { ColumnDecoder, ColumnEncoder, COLUMNS_KIND } from "./column-codec.ts";

const CONTROL = 0xc1;
const WATERMARK = 1;
const IDLE = 2;
const BARRIER = 3;
const END = 4;
/** 5 is column-codec.ts's COLUMNS_KIND. */
const STAMPED = 6;
const STAMPED_HEADER = 8;
const CONTROL_BYTES = 18; // marker, kind, then two float64 (little-endian) from byte 2

/** One channel's encoder (it learns the channel's shapes: use one per channel). */
export interface BatchEncoder {
  readonly columns: ColumnEncoder;
  readonly packr: Packr;
}

export interface BatchDecoder {
  readonly columns: ColumnDecoder;
  readonly unpackr: Unpackr;
}

export const newBatchEncoder = (): BatchEncoder => ({ columns: new ColumnEncoder(), packr: new Packr({ useRecords: true, moreTypes: true }) });
export const newBatchDecoder = (): BatchDecoder => ({
  columns: new ColumnDecoder(),
  unpackr: new Unpackr({ useRecords: true, moreTypes: true, copyBuffers: true }),
});

/**
 * The records of a batch as one frame (the encoder's reused buffer, see the contract), or with
 * `timestamps` a new stamped frame around it.
 */
export const encodeBatch = (encoder: BatchEncoder, records: readonly unknown[], timestamps?: readonly number[]): Uint8Array =>
  stamp(encoder.columns.encode(records) ?? encoder.packr.pack(records), timestamps);

/** `frame` (a batch's) with its records' timestamps in front: a new stamped frame; `frame` itself without timestamps. */
export const stamp = (frame: Uint8Array, timestamps: readonly number[] | undefined): Uint8Array => {
  if (timestamps === undefined) return frame;
  const n = timestamps.length;
  const stamped = new Uint8Array(STAMPED_HEADER + 8 * n + frame.length);
  const view = new DataView(stamped.buffer);
  stamped[0] = CONTROL;
  stamped[1] = STAMPED;
  view.setUint32(4, n, true);
  for (let i = 0; i < n; i++) view.setFloat64(STAMPED_HEADER + 8 * i, timestamps[i]!, true);
  stamped.set(frame, STAMPED_HEADER + 8 * n);
  return stamped;
};

/** A control element as a new frame. */
export const encodeControl = (element: Exclude<StreamElement<unknown>, { kind: "batch" }>): Uint8Array => {
  const frame = new Uint8Array(CONTROL_BYTES);
  const view = new DataView(frame.buffer);
  frame[0] = CONTROL;
  switch (element.kind) {
    case "watermark":
      frame[1] = WATERMARK;
      view.setFloat64(2, element.timestamp, true);
      break;
    case "idle":
      frame[1] = IDLE;
      break;
    case "barrier":
      frame[1] = BARRIER;
      view.setFloat64(2, element.checkpointId, true);
      view.setFloat64(10, element.timestamp, true);
      break;
    case "end":
      frame[1] = END;
      break;
  }
  return frame;
};

/** The element a frame holds; throws EXCHANGE_BAD_FRAME on bytes no encoder here wrote. */
export const decodeElement = (decoder: BatchDecoder, frame: Uint8Array): StreamElement<unknown> => {
  if (frame[0] !== CONTROL) {
    const records = decoder.unpackr.unpack(frame) as unknown;
    if (!Array.isArray(records)) throw internalError("EXCHANGE_BAD_FRAME", "a batch frame did not hold an array of records");
    return { kind: "batch", records };
  }
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  switch (frame[1]) {
    case WATERMARK:
      return { kind: "watermark", timestamp: view.getFloat64(2, true) };
    case IDLE:
      return { kind: "idle" };
    case BARRIER:
      return { kind: "barrier", checkpointId: view.getFloat64(2, true), timestamp: view.getFloat64(10, true) };
    case END:
      return { kind: "end" };
    case COLUMNS_KIND:
      return { kind: "batch", records: decoder.columns.decode(frame) };
    case STAMPED: {
      const n = view.getUint32(4, true);
      const timestamps = new Array<number>(n);
      for (let i = 0; i < n; i++) timestamps[i] = view.getFloat64(STAMPED_HEADER + 8 * i, true);
      const inner = decodeElement(decoder, frame.subarray(STAMPED_HEADER + 8 * n));
      if (inner.kind !== "batch" || inner.timestamps !== undefined || inner.records.length !== n) {
        throw internalError("EXCHANGE_BAD_FRAME", `a stamped frame of ${n} timestamps did not hold a batch of as many records`);
      }
      return { kind: "batch", records: inner.records, timestamps };
    }
    default:
      throw internalError("EXCHANGE_BAD_FRAME", `unknown control frame kind ${frame[1]}`);
  }
};
