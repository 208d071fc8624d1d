/**
 * Keeps the exactly-once Kafka writer's next transaction ready ahead of time. Opening one
 * (a producer's connect, metadata, InitProducerId for a new transactional id) takes several
 * round trips; done on the first write after a barrier it would hold up the task, and every
 * record behind it, once per checkpoint. `openAhead` starts opening the next sequence number in
 * the background (the writer calls it when it cuts a transaction at preCommit); `take` hands out
 * that one, or opens one now if none was opened ahead.
 *
 * Sequence numbers are handed out consecutively from `firstSeq`, each opened at most once, so the
 * transactional ids a writer touches are a gap-free range (recovery's fencing walks them upwards
 * until an id that was never used, sink.ts). `nextSeq` is the sequence number the next `take`
 * returns: a transaction opened ahead and not taken yet is not in the checkpoint that records
 * `nextSeq`, so recovery, probing upwards from there, fences it.
 *
 *   const next = new NextTransaction({ open: (seq) => begin(seq), dispose: (t) => t.close() });
 *   const txn = await next.take();   // opens seq 0 now
 *   next.openAhead();                // seq 1 opens in the background
 *   const txn2 = await next.take();  // seq 1, already open
 *
 * Failure: an open ahead that fails is not reported until `take`, which rethrows its error
 * (the writer's write fails, as it would have opening it then).
 */
export interface NextTransactionOptions<T> {
  /** Opens the transaction with sequence number `seq`; rejects if it cannot. */
  readonly open: (seq: number) => Promise<T>;
  /** Releases a transaction that was opened and never taken (at close). */
  readonly dispose: (txn: T) => Promise<void>;
  /** The first sequence number (default 0). */
  readonly firstSeq?: number;
}

export class NextTransaction<T> {
  private readonly options: NextTransactionOptions<T>;
  private seq: number;
  private ahead: Promise<T> | undefined;
  private closed = false;

  constructor(options: NextTransactionOptions<T>) {
    this.options = options;
    this.seq = options.firstSeq ?? 0;
  }

  /** The sequence number the next `take` returns (opened ahead or not). */
  get nextSeq(): number {
    return this.seq;
  }

  /** Whether a transaction was opened ahead (its open may still be under way) and not taken yet. */
  get isOpenAhead(): boolean {
    return this.ahead !== undefined;
  }

  /** Starts opening the next transaction in the background, unless one was already. */
  openAhead(): void {
    if (this.closed || this.ahead !== undefined) return;
    const opening = this.options.open(this.seq);
    opening.catch(() => undefined); // reported by `take`
    this.ahead = opening;
  }

  /** The next transaction (sequence number `nextSeq`): the one opened ahead, or one opened now. */
  take(): Promise<T> {
    const opening = this.ahead ?? this.options.open(this.seq);
    this.ahead = undefined;
    this.seq++;
    return opening;
  }

  /** Disposes of the transaction opened ahead, if any, once its open settles; opens none ahead after. */
  async close(): Promise<void> {
    this.closed = true;
    const ahead = this.ahead;
    this.ahead = undefined;
    if (ahead === undefined) return;
    const txn = await ahead.catch(() => undefined);
    if (txn !== undefined) await this.options.dispose(txn);
  }
}
