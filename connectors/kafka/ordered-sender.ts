/**
 * Sends messages to Kafka in the order they were given, one request at a time, batching whatever
 * accumulated while the previous request was in flight. (kafkajs does not keep the order of
 * concurrent `send` calls to one partition: each call first resolves metadata asynchronously,
 * so a later call can reach the broker first. Found by Weir's Kafka crash test.)
 *
 * `add` never waits unless `maxPending` messages are already queued (backpressure); `flush`
 * resolves once everything added so far is acknowledged. The first failure is kept and rethrown
 * by every later call.
 */
import type { Message } from "kafkajs";

export type SendFn = (messages: Message[]) => Promise<unknown>;

export class OrderedSender {
  private readonly send: SendFn;
  private readonly maxPending: number;
  private pending: Message[] = [];
  private inFlight: Promise<void> | undefined;
  private failure: unknown;

  constructor(send: SendFn, maxPending = 50_000) {
    this.send = send;
    this.maxPending = maxPending;
  }

  private pump(): void {
    if (this.inFlight !== undefined || this.pending.length === 0 || this.failure !== undefined) return;
    const batch = this.pending;
    this.pending = [];
    this.inFlight = this.send(batch).then(
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
    while (this.pending.length >= this.maxPending && this.inFlight !== undefined) await this.inFlight;
    if (this.failure !== undefined) throw this.failure;
  }

  async flush(): Promise<void> {
    for (;;) {
      if (this.failure !== undefined) throw this.failure;
      this.pump();
      if (this.inFlight === undefined) {
        if (this.pending.length === 0 || this.failure !== undefined) break;
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
