/**
 * Records and codecs shared by both sides of bench/thread-transport.ts (pure, deterministic).
 *
 * A record looks like a Nexmark Bid as Weir's generator makes it: four numbers and three strings
 * (a channel name, a ~70-character URL, a short `extra`).
 */
import { Packr, Unpackr } from "msgpackr";
import type { Bid } from "../../connectors/nexmark/model.ts";
import { ColumnDecoder, ColumnEncoder } from "../../engine/exchange/column-codec.ts";

/** The record the bench moves: the Nexmark Bid type itself. */
export type BidRecord = Bid;

const CHANNELS = ["Google", "Facebook", "Baidu", "Apple"] as const;

/** `count` batches of `size` records; record n of the whole sequence depends only on n. */
export const bidBatches = (count: number, size: number): BidRecord[][] =>
  Array.from({ length: count }, (_, b) =>
    Array.from({ length: size }, (_, i) => {
      const n = b * size + i;
      const x = Math.imul(n + 1, 0x9e3779b1) >>> 0;
      return {
        auction: 1000 + (x % 10_000),
        bidder: 1000 + ((x >>> 7) % 100_000),
        price: 100 + (x % 9_000_000),
        channel: CHANNELS[n % 4]!,
        url: `https://www.nexmark.com/${(x >>> 3) % 997}/item.htm?query=1&channel_id=${x % 1_000_003}`,
        dateTime: 1_700_000_000_000 + n,
        extra: n % 8 === 0 ? "x".repeat(n % 32) : "",
      };
    }),
  );

/**
 * What a consumer does with each record: read every field (so lazy decoders pay in full). The sum
 * stays an exact integer (below 2^53), so it checks a pass whatever the order of addition.
 */
export const consume = (records: readonly BidRecord[], into: { count: number; sum: number }): void => {
  let sum = into.sum;
  for (const r of records) {
    sum += r.price + r.auction + r.bidder + (r.dateTime % 1000) + r.channel.length + r.url.length + r.extra.length;
  }
  into.sum = sum;
  into.count += records.length;
};

/** The batches' consume() sum, for checking what arrived. */
export const expectedSum = (batches: readonly (readonly BidRecord[])[]): number => {
  const into = { count: 0, sum: 0 };
  for (const b of batches) consume(b, into);
  return into.sum;
};

/**
 * - `records`: msgpackr's record extension, each batch self-contained (its structure written once
 *   inside it);
 * - `sequential`: structures written once per stream and referenced after (order must be kept, as
 *   a channel keeps it);
 * - `columns`: engine/exchange/column-codec.ts, what Weir's channels between threads use for
 *   batches of one shape (numbers as typed columns, strings as Latin-1 or UTF-16 runs).
 */
export type CodecName = "records" | "sequential" | "columns";
export const CODECS: readonly CodecName[] = ["records", "sequential", "columns"];

export interface BenchEncoder {
  pack(records: readonly BidRecord[]): Uint8Array;
}
export interface BenchDecoder {
  unpack(frame: Uint8Array): unknown;
}

const columnEncoder = (): BenchEncoder => {
  const encoder = new ColumnEncoder();
  return {
    pack: (records) => {
      const frame = encoder.encode(records);
      if (frame === undefined) throw new Error("bench records are one shape: the column codec must take them");
      return frame;
    },
  };
};

export const encoderFor = (codec: CodecName): BenchEncoder =>
  codec === "columns"
    ? columnEncoder()
    : codec === "records"
      ? new Packr({ useRecords: true, structuredClone: false })
      : new Packr({ sequential: true, structuredClone: false });
export const decoderFor = (codec: CodecName): BenchDecoder => {
  if (codec === "columns") {
    const decoder = new ColumnDecoder();
    return { unpack: (frame) => decoder.decode(frame) };
  }
  return codec === "records" ? new Unpackr({ useRecords: true, structuredClone: false }) : new Unpackr({ sequential: true, structuredClone: false });
};
