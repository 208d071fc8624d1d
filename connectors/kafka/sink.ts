/**
 * Kafka sink with three delivery modes:
 * - `exactly-once` (default): Kafka transactions as two-phase commit. Each sink subtask writes the
 *   records between two checkpoints in one transaction under its own transactional id
 *   `<prefix>-<run>-<subtask>-<seq>`. preCommit (at the barrier) cuts the transaction at once
 *   (`cutsOnCall`: the task processes on while it flushes), flushes every send and records
 *   (transactional id, producer id, epoch) in the checkpoint; commit (after the checkpoint
 *   completes, or at recovery) ends it with EndTxn through the bridge. Off the task's path: the
 *   next transaction's producer is opened while the cut one flushes (next-transaction.ts), and its
 *   records are queued, not sent, until that flush is done, so each partition holds the
 *   transactions' records in the order they were written. Recovery commits what the
 *   checkpoint recorded and fences every transactional id earlier runs may have left open, so no
 *   zombie writes and no read_committed consumer stays stuck. It reports which of the
 *   checkpoint's transactions the broker had aborted (transaction timeout passed while the job
 *   was down): the engine then falls back to the previous checkpoint or stops (connectors/sink.ts).
 *   One writer per job, sink and topic: each run takes over the lease id
 *   `<prefix>:writer:<topic>` (InitProducerId, which fences the previous holder); the run checks
 *   its lease on the main thread before every checkpoint's commits (`SinkClaim.beforeCommit`, one
 *   probe per checkpoint, wherever the writers run), so an older run still writing fails with
 *   KAFKA_SINK_FENCED (and aborts that checkpoint's transactions; writers on the main thread also
 *   abort what they pre-committed since) instead of committing a second copy of the output.
 * - `at-least-once`: idempotent producer; every send is flushed at the checkpoint.
 * - `none`: sends are not awaited at checkpoints (flushed at close).
 */
import type { IHeaders, Kafka, Message, Producer, Transaction } from "kafkajs";
import { userError, externalError } from "../../common/errors.ts";
import type { CommittableFate, RecoveryContext, RecoveryReport, Sink, SinkContext, SinkWriter } from "../sink.ts";
import { brokerList, createKafka, kafkaError } from "./client.ts";
import { forgetIdentity, lastIdentity } from "./kafkajs-internals.ts";
import { TransactionBridge, type TransactionHandle } from "./txn-bridge.ts";
import { nextTxnState, type TxnState } from "./txn-lifecycle.ts";
import type { Serializer } from "./serde.ts";
import { OrderedSender } from "./ordered-sender.ts";
import { NextTransaction } from "./next-transaction.ts";
import { readCommittedValues } from "./read-back.ts";
import { serializers } from "./serde.ts";

export type KafkaSinkMode = "exactly-once" | "at-least-once" | "none";

export interface KafkaSinkOptions<T> {
  readonly brokers: string | readonly string[];
  readonly topic: string;
  /** Record key (default: none). Equal keys go to the same partition. */
  readonly key?: Serializer<T>;
  /** Record value (default: JSON). */
  readonly value?: Serializer<T>;
  /** Record headers (default: none). */
  readonly headers?: (record: T) => IHeaders;
  readonly mode?: KafkaSinkMode;
  /**
   * Transactional id prefix (default `weir-<job>-<operator>`), as Flink's `transactionalIdPrefix`.
   * Runs with the same prefix and topic are one writer: a newer run makes an older one fail. Two
   * different jobs that must both write one topic need different prefixes.
   */
  readonly transactionalIdPrefix?: string;
  /** Must exceed the checkpoint interval and stay within the broker's transaction.max.timeout.ms (default 10 min). */
  readonly transactionTimeoutMs?: number;
  readonly name?: string;
}

export interface KafkaWriterState {
  readonly runId: string;
  readonly subtask: number;
  /** Sequence number the next transaction of this writer gets. */
  readonly nextSeq: number;
}

const DEFAULT_TXN_TIMEOUT_MS = 10 * 60_000;

const toMessage = <T>(record: T, key: Serializer<T> | undefined, value: Serializer<T>, headers?: (record: T) => IHeaders): Message => ({
  key: key === undefined ? null : key(record),
  value: value(record),
  ...(headers === undefined ? {} : { headers: headers(record) }),
});

export const transactionalId = (prefix: string, runId: string, subtask: number, seq: number) => `${prefix}-${runId}-${subtask}-${seq}`;

/** A transaction's producer, initialised (InitProducerId) and not yet written to. */
interface ReadyTxn {
  readonly transactionalId: string;
  readonly producer: Producer;
  readonly transaction: Transaction;
}

interface OpenTxn extends ReadyTxn {
  readonly sender: OrderedSender;
  state: TxnState;
}

/** The transactional id whose newest producer is the one run allowed to write `topic` under `prefix`. */
export const leaseId = (prefix: string, topic: string) => `${prefix}:writer:${topic}`;

/** This run's lease on a sink's topic (see the top of this file); `current` is renewed if the broker forgot it. */
interface Lease {
  current: TransactionHandle;
  /** Set once a writer found it taken over: every writer of this run then aborts what it pre-committed when closed. */
  fenced: boolean;
}

/** Validates the transaction timeout against the checkpoint interval and the broker's maximum. */
const validateTimeout = async (kafka: Kafka, brokers: readonly string[], timeoutMs: number, intervalMs: number, name: string) => {
  if (Number.isFinite(intervalMs) && timeoutMs <= intervalMs) {
    throw userError(
      "KAFKA_TXN_TIMEOUT_TOO_SHORT",
      `Kafka sink '${name}': transactionTimeoutMs ${timeoutMs} must exceed the checkpoint interval ${intervalMs} ms (a transaction stays open from one checkpoint to the next); raise transactionTimeoutMs or shorten --checkpoint-interval`,
      { operator: name },
    );
  }
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    const configs = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: 4 /* BROKER */, name: String(cluster.controller ?? cluster.brokers[0]?.nodeId ?? 1), configNames: ["transaction.max.timeout.ms"] }],
    });
    const entry = configs.resources[0]?.configEntries.find((c) => c.configName === "transaction.max.timeout.ms");
    const max = entry === undefined ? undefined : Number(entry.configValue);
    if (max !== undefined && Number.isFinite(max) && timeoutMs > max) {
      throw userError(
        "KAFKA_TXN_TIMEOUT_TOO_LONG",
        `Kafka sink '${name}': transactionTimeoutMs ${timeoutMs} exceeds the broker's transaction.max.timeout.ms ${max} (${brokers.join(",")}); lower transactionTimeoutMs or raise the broker setting`,
        { operator: name },
      );
    }
  } catch (e) {
    throw kafkaError(e, brokers, "checking the transaction timeout", name);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
};

class ExactlyOnceWriter<T> implements SinkWriter<T, TransactionHandle> {
  readonly cutsOnCall = true;
  private current: OpenTxn | undefined;
  private readonly next: NextTransaction<ReadyTxn>;
  /** Settles once every transaction cut so far is flushed; rejects if a flush failed. */
  private flushed: Promise<void> = Promise.resolve();
  private records = 0;
  /** Pre-committed, not yet committed (aborted at close if the lease was taken over). */
  private prepared: TransactionHandle[] = [];

  constructor(
    private readonly kafka: Kafka,
    private readonly bridge: TransactionBridge,
    private readonly options: KafkaSinkOptions<T>,
    private readonly context: SinkContext,
    private readonly prefix: string,
    private readonly brokers: readonly string[],
    private readonly timeoutMs: number,
    private readonly lease: Lease | undefined,
  ) {
    this.next = new NextTransaction({ open: (seq) => this.begin(seq), dispose: (txn) => this.discard(txn) });
  }

  private async begin(seq: number): Promise<ReadyTxn> {
    const id = transactionalId(this.prefix, this.context.runId, this.context.subtask, seq);
    const producer = this.kafka.producer({
      transactionalId: id,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: this.timeoutMs,
      allowAutoTopicCreation: false,
    });
    try {
      await producer.connect();
      const transaction = await producer.transaction();
      return { transactionalId: id, producer, transaction };
    } catch (e) {
      await producer.disconnect().catch(() => undefined);
      throw kafkaError(e, this.brokers, `beginning transaction '${id}'`, this.context.operatorName);
    }
  }

  /** A transaction opened ahead and never written to: nothing of it is on the broker but its producer id. */
  private async discard(txn: ReadyTxn): Promise<void> {
    forgetIdentity(txn.transactionalId);
    await txn.transaction.abort().catch(() => undefined); // sends nothing: no partition was added
    await txn.producer.disconnect().catch(() => undefined);
  }

  /** The transaction records go to now, opened (or taken from `next`) on the first write after a cut. */
  private async open(): Promise<OpenTxn> {
    // The previous transactions' records reach each partition first (their flush resolves once
    // every one of them is acknowledged); a failed flush fails these sends too.
    const after = this.flushed;
    const ready = await this.next.take();
    const topic = this.options.topic;
    const sender = new OrderedSender(async (messages) => {
      await after;
      return ready.transaction.send({ topic, messages });
    });
    return { ...ready, sender, state: "open" };
  }

  async write(records: readonly T[]): Promise<void> {
    // No transaction without a record: one that never reached its coordinator would look aborted
    // to recovery's repeated commit (INVALID_TXN_STATE), and trigger a needless fallback.
    if (records.length === 0) return;
    const txn = (this.current ??= await this.open());
    this.records += records.length;
    const value = this.options.value ?? ((r: T) => JSON.stringify(r));
    try {
      await txn.sender.add(records.map((r) => toMessage(r, this.options.key, value, this.options.headers)));
    } catch (e) {
      throw kafkaError(e, this.brokers, `sending in transaction '${txn.transactionalId}'`, this.context.operatorName);
    }
  }

  private async flush(txn: OpenTxn): Promise<void> {
    try {
      await txn.sender.flush();
    } catch (e) {
      throw kafkaError(e, this.brokers, `sending in transaction '${txn.transactionalId}'`, this.context.operatorName);
    }
  }

  /** Cuts before its first await (`cutsOnCall`): later writes go to the next transaction. */
  async preCommit(): Promise<readonly TransactionHandle[]> {
    const txn = this.current;
    if (txn === undefined) return [];
    this.current = undefined;
    const records = this.records;
    this.records = 0;
    const flushed = this.flush(txn);
    this.flushed = flushed;
    this.next.openAhead();
    try {
      await flushed;
    } finally {
      void txn.producer.disconnect().catch(() => undefined);
    }
    txn.state = nextTxnState(txn.state, "preCommit", txn.transactionalId);
    const identity = lastIdentity(txn.transactionalId);
    forgetIdentity(txn.transactionalId);
    if (identity === undefined) {
      throw externalError("KAFKA_TXN_UNKNOWN", `no producer id was recorded for transaction '${txn.transactionalId}'`, { retriable: true });
    }
    const handle = { transactionalId: txn.transactionalId, ...identity, subtask: this.context.subtask, records };
    this.prepared.push(handle);
    return [handle];
  }

  async commit(handles: readonly TransactionHandle[]): Promise<void> {
    if (handles.length === 0) return;
    for (const handle of handles) {
      if ((await this.bridge.end(handle, true)) === "committed") {
        this.prepared = this.prepared.filter((h) => h.transactionalId !== handle.transactionalId);
        continue;
      }
      // Retriable: the restart recovers from the latest checkpoint, which holds this transaction;
      // recovery then falls back to the checkpoint before it if nothing of it is visible.
      throw externalError(
        "KAFKA_TXN_LOST",
        `Kafka sink '${this.context.operatorName}': the broker aborted transaction ${describeHandle(handle)} before it could be committed (the transaction timeout of ${this.timeoutMs} ms passed first); restarting from the latest checkpoint writes its records again`,
        { operator: this.context.operatorName, retriable: true },
      );
    }
  }

  /** Aborts every pre-committed transaction of this writer (best effort: the transaction timeout ends any left). */
  private async abortPrepared(): Promise<void> {
    for (const handle of this.prepared) await this.bridge.end(handle, false).catch(() => undefined);
    this.prepared = [];
  }

  snapshotState(): KafkaWriterState {
    return { runId: this.context.runId, subtask: this.context.subtask, nextSeq: this.next.nextSeq };
  }

  async close(): Promise<void> {
    const txn = this.current;
    this.current = undefined;
    if (txn !== undefined) {
      txn.state = nextTxnState(txn.state, "abort", txn.transactionalId);
      await txn.sender.settle();
      await txn.transaction.abort().catch(() => undefined);
      await txn.producer.disconnect().catch(() => undefined);
    }
    await this.next.close();
    // A run that was taken over commits nothing more: release read_committed readers now.
    if (this.lease?.fenced === true) await this.abortPrepared();
    await this.bridge.close();
  }
}

/** The error of a run whose lease on the sink's topic another run took over. */
const fencedError = (jobName: string, operatorName: string, topic: string, transactionalId: string) =>
  userError(
    "KAFKA_SINK_FENCED",
    `Kafka sink '${operatorName}' of job '${jobName}': another run of the job started writing topic '${topic}' (it took over transactional id '${transactionalId}'); only one run may write a sink, so this run stops without committing (its pending transactions are aborted). If this run is the one that should write, stop the other and run this command again; two different jobs writing one topic need different transactionalIdPrefix values`,
    { operator: operatorName },
  );

/** "transaction 'id' (subtask 1, 500 records)"; checkpoints of older versions lack the counts. */
const describeHandle = (h: TransactionHandle): string => {
  const parts = [h.subtask === undefined ? undefined : `subtask ${h.subtask}`, h.records === undefined ? undefined : `${h.records} record${h.records === 1 ? "" : "s"}`].filter((p) => p !== undefined);
  return `'${h.transactionalId}'${parts.length === 0 ? "" : ` (${parts.join(", ")})`}`;
};

/** Commits every handle (idempotent) and reports what became of each: see txn-bridge.ts for what the broker's answers prove. */
const commitAndReport = async (bridge: TransactionBridge, handles: readonly TransactionHandle[], timeoutMs: number): Promise<RecoveryReport> => {
  const fates = { committed: [] as CommittableFate[], aborted: [] as CommittableFate[], unknown: [] as CommittableFate[] };
  for (const handle of handles) {
    const outcome = await bridge.end(handle, true);
    fates[outcome].push({ description: `transaction ${describeHandle(handle)}`, records: handle.records });
  }
  return { ...fates, abortReason: `the broker aborts a transaction not committed within its transaction timeout (${timeoutMs} ms)` };
};

class PlainWriter<T> implements SinkWriter<T, never> {
  private producer: Producer | undefined;
  private sender: OrderedSender | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: KafkaSinkOptions<T>,
    private readonly context: SinkContext,
    private readonly brokers: readonly string[],
    private readonly flushAtCheckpoint: boolean,
  ) {}

  async write(records: readonly T[]): Promise<void> {
    if (this.producer === undefined) {
      const producer = this.kafka.producer({ idempotent: this.flushAtCheckpoint, maxInFlightRequests: this.flushAtCheckpoint ? 1 : 5, allowAutoTopicCreation: false });
      try {
        await producer.connect();
      } catch (e) {
        throw kafkaError(e, this.brokers, "connecting the producer", this.context.operatorName);
      }
      this.producer = producer;
      const topic = this.options.topic;
      this.sender = new OrderedSender((messages) => producer.send({ topic, messages }));
    }
    const value = this.options.value ?? ((r: T) => JSON.stringify(r));
    try {
      await this.sender!.add(records.map((r) => toMessage(r, this.options.key, value, this.options.headers)));
    } catch (e) {
      throw kafkaError(e, this.brokers, "sending", this.context.operatorName);
    }
  }

  private async flush(): Promise<void> {
    try {
      await this.sender?.flush();
    } catch (e) {
      throw kafkaError(e, this.brokers, "sending", this.context.operatorName);
    }
  }

  async preCommit(): Promise<readonly never[]> {
    if (this.flushAtCheckpoint) await this.flush();
    return [];
  }

  commit = async () => undefined;

  async close(): Promise<void> {
    await this.sender?.flush().catch(() => undefined);
    await this.producer?.disconnect().catch(() => undefined);
  }
}

/** Writes records to a Kafka topic; see the modes above. */
export const toKafka = <T>(options: KafkaSinkOptions<T>): Sink<T, TransactionHandle> => {
  const brokers = brokerList(options.brokers);
  const mode = options.mode ?? "exactly-once";
  const name0 = options.name ?? "kafka-sink";
  if (!["exactly-once", "at-least-once", "none"].includes(mode)) {
    throw userError("KAFKA_BAD_MODE", `Kafka sink '${name0}': mode must be exactly-once, at-least-once or none, got '${String(mode)}'`);
  }
  if (options.transactionTimeoutMs !== undefined && !(Number.isInteger(options.transactionTimeoutMs) && options.transactionTimeoutMs > 0)) {
    throw userError("KAFKA_TXN_TIMEOUT_INVALID", `Kafka sink '${name0}': transactionTimeoutMs must be a positive integer (ms)`);
  }
  const timeoutMs = options.transactionTimeoutMs ?? DEFAULT_TXN_TIMEOUT_MS;
  const name = name0;
  const prefixFor = (job: string, operator: string) => options.transactionalIdPrefix ?? `weir-${job}-${operator}`;
  /** This thread's lease per job and operator, from `claim`: writers on the claiming thread abort what they pre-committed when it is found taken over. */
  const leases = new Map<string, Lease>();
  return {
    name,
    /** The topic's committed values, when they are JSON (the default value serializer). */
    async readCommitted() {
      if (options.value !== undefined && options.value !== serializers.json) return undefined;
      return readCommittedValues(brokers, options.topic);
    },
    async createWriter(context) {
      const kafka = createKafka({ brokers, clientId: `weir-${context.jobName}-${context.operatorName}-${context.subtask}` });
      if (mode !== "exactly-once") return new PlainWriter<T>(kafka, options, context, brokers, mode === "at-least-once") as SinkWriter<T, TransactionHandle>;
      if (context.subtask === 0) await validateTimeout(kafka, brokers, timeoutMs, context.checkpointIntervalMs, context.operatorName);
      const bridge = new TransactionBridge(kafka, { brokers, transactionTimeoutMs: timeoutMs });
      const lease = leases.get(`${context.jobName}/${context.operatorName}`);
      return new ExactlyOnceWriter<T>(kafka, bridge, options, context, prefixFor(context.jobName, context.operatorName), brokers, timeoutMs, lease);
    },
    async claim(context) {
      const key = `${context.jobName}/${context.operatorName}`;
      if (mode !== "exactly-once") return { release: async () => undefined };
      const kafka = createKafka({ brokers, clientId: `weir-${context.jobName}-${context.operatorName}-lease` });
      // The lease is a transactional id too: a timeout the broker refuses is the user's to fix, and
      // must be said as such before it fails the fencing (the interval is checked by createWriter).
      await validateTimeout(kafka, brokers, timeoutMs, Number.NaN, context.operatorName);
      const bridge = new TransactionBridge(kafka, { brokers, transactionTimeoutMs: timeoutMs });
      const id = leaseId(prefixFor(context.jobName, context.operatorName), options.topic);
      let lease: Lease;
      try {
        lease = { current: { transactionalId: id, ...(await bridge.fence(id)) }, fenced: false };
      } catch (e) {
        await bridge.close();
        throw kafkaError(e, brokers, `taking over transactional id '${id}'`, context.operatorName);
      }
      leases.set(key, lease);
      return {
        release: async () => {
          leases.delete(key);
          await bridge.close();
        },
        /** Fails with KAFKA_SINK_FENCED, after aborting the checkpoint's transactions, if a newer run has taken the lease. */
        beforeCommit: async (_checkpointId, committables) => {
          const state = await bridge.probe(lease.current);
          if (state === "held") return;
          if (state === "expired") {
            // Unused for transactional.id.expiration.ms: nobody took it over (that would have kept it).
            lease.current = { transactionalId: id, ...(await bridge.fence(id)) };
            return;
          }
          lease.fenced = true;
          for (const handle of committables as readonly TransactionHandle[]) await bridge.end(handle, false).catch(() => undefined);
          throw fencedError(context.jobName, context.operatorName, options.topic, lease.current.transactionalId);
        },
      };
    },
    async recover(handles, context: RecoveryContext) {
      if (mode !== "exactly-once") return;
      const kafka = createKafka({ brokers, clientId: `weir-${context.jobName}-${context.operatorName}-recovery` });
      const bridge = new TransactionBridge(kafka, { brokers, transactionTimeoutMs: timeoutMs });
      try {
        const report = await commitAndReport(bridge, handles, timeoutMs);
        await fenceLingering(bridge, prefixFor(context.jobName, context.operatorName), context);
        return report;
      } catch (e) {
        throw kafkaError(e, brokers, "recovering transactions", context.operatorName);
      } finally {
        await bridge.close();
      }
    },
  };
};

/**
 * Aborts and fences every transaction earlier runs may have left open. A writer's transactional
 * ids use consecutive sequence numbers, so probing upwards from the first one not covered by the
 * checkpoint until an id that was never used (epoch 0) reaches every id the run opened.
 */
const fenceLingering = async (bridge: TransactionBridge, prefix: string, context: RecoveryContext): Promise<void> => {
  const startAt = new Map<string, number>();
  for (const state of context.writerStates as KafkaWriterState[]) startAt.set(`${state.runId}/${state.subtask}`, state.nextSeq);
  for (const run of context.previousRuns) {
    for (let subtask = 0; subtask < run.parallelism; subtask++) {
      for (let seq = startAt.get(`${run.runId}/${subtask}`) ?? 0; ; seq++) {
        const identity = await bridge.fence(transactionalId(prefix, run.runId, subtask, seq));
        if (identity.producerEpoch === 0) break; // never used: this writer opened nothing beyond
      }
    }
  }
};
