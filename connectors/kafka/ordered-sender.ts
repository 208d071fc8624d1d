/**
 * Sends messages to Kafka in the order they were given, one request at a time, batching whatever
 * accumulated while the previous request was in flight. (kafkajs does not keep the order of
 * concurrent `send` calls to one partition: each call first resolves metadata asynchronously,
 * so a later call can reach the broker first. Found by Weir's Kafka crash test.)
 *
 * Each request carries at most `maxBatchMessages` messages and `maxBatchBytes` bytes (keys,
 * values and headers; a single larger message goes alone). kafkajs 2.2.4 groups a send's
 * messages by partition by copying the partition's array for every message
 * (`producer/groupMessagesPerPartition.js`), so one `send` costs time quadratic in the messages
 * per partition, all of it synchronous: 50,000 messages blocked the event loop for seconds. The
 * default bounds keep one send to a few milliseconds even when every message goes to one
 * partition, and one partition's record batch below the broker's default 1 MB message limit.
 *
 * `add` never waits unless `maxPending` messages are already queued (backpressure); `flush`
 * resolves once everything added so far is acknowledged. The first failure is kept and rethrown
 * by every later call.
 */
import type { Message } from "kafkajs";

export type SendFn = (messages: Message[]) => Promise<unknown>;

export interface OrderedSenderOptions {
  /** Queued messages at which `add` waits (default 50,000). */
  readonly maxPending?: number;
  /** Messages per request (default 2,000). */
  readonly maxBatchMessages?: number;
  /** Bytes of keys, values and headers per request (default 512 KiB). */
  readonly maxBatchBytes?: number;
}

export const DEFAULT_MAX_BATCH_MESSAGES = 2_000;
export const DEFAULT_MAX_BATCH_BYTES = 512 * 1024;

const sizeOf = (v: Buffer | string | null | undefined): number => (v == null ? 0 : typeof v === "string" ? Buffer.byteLength(v) : v.length);

/** Bytes a message adds to a request, not counting the protocol's per-record overhead. */
export const messageBytes = (m: Message): number => {
  let n = sizeOf(m.key) + sizeOf(m.value);
  if (m.headers !== undefined) {
    for (const [k, v] of Object.entries(m.headers)) {
      n += Buffer.byteLength(k);
      if (Array.isArray(v)) for (const x of v) n += sizeOf(x);
      else n += sizeOf(v as Buffer | string | undefined);
    }
  }
  return n;
};

export class OrderedSender {
  private readonly send: SendFn;
  private readonly maxPending: number;
  private readonly maxBatchMessages: number;
  private readonly maxBatchBytes: number;
  /** Queued messages are `pending[head..]`. */
  private pending: Message[] = [];
  private head = 0;
  private inFlight: Promise<void> | undefined;
  private failure: unknown;

  constructor(send: SendFn, options: OrderedSenderOptions = {}) {
    this.send = send;
    this.maxPending = options.maxPending ?? 50_000;
    this.maxBatchMessages = options.maxBatchMessages ?? DEFAULT_MAX_BATCH_MESSAGES;
    this.maxBatchBytes = options.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES;
  }

  private queued(): number {
    return this.pending.length - this.head;
  }

  /** Takes the next request's messages off the queue (at least one, within both bounds). */
  private nextBatch(): Message[] {
    const end = Math.min(this.pending.length, this.head + this.maxBatchMessages);
    let i = this.head;
    let bytes = 0;
    for (; i < end; i++) {
      bytes += messageBytes(this.pending[i]!);
      if (bytes > this.maxBatchBytes && i > this.head) break;
    }
    const batch = this.pending.slice(this.head, i);
    this.head = i;
    if (this.head === this.pending.length) {
      this.pending = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.pending.length) {
      this.pending = this.pending.slice(this.head);
      this.head = 0;
    }
    return batch;
  }

  private pump(): void {
    if (this.inFlight !== undefined || this.queued() === 0 || this.failure !== undefined) return;
    this.inFlight = this.send(this.nextBatch()).then(
      () => {
        this.inFlight = undefined;
        this.pump();
      },
      (e: unknown) => {
        this.failure ??= e;
        this.inFlight = undefined;
      },
    );
  }

  async add(messages: readonly Message[]): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    for (const m of messages) this.pending.push(m);
    this.pump();
    while (this.queued() >= this.maxPending && this.inFlight !== undefined) await this.inFlight;
    if (this.failure !== undefined) throw this.failure;
  }

  async flush(): Promise<void> {
    for (;;) {
      if (this.failure !== undefined) throw this.failure;
      this.pump();
      if (this.inFlight === undefined) {
        if (this.queued() === 0 || this.failure !== undefined) break;
        continue;
      }
      await this.inFlight;
    }
    if (this.failure !== undefined) throw this.failure;
  }

  /** Waits for the request in flight, ignoring its outcome (for shutdown). */
  async settle(): Promise<void> {
    await this.inFlight?.catch(() => undefined);
  }
}
