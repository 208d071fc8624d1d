/**
 * The Kafka two-phase-commit bridge: ends a transaction by name from any process.
 *
 * Kafka's transaction coordinator accepts `EndTxn(commit)` for a transactional id when the
 * producer id and epoch match the transaction's, from any client; committing an already
 * committed transaction again succeeds. So a checkpoint records (transactional id, producer id,
 * epoch) at pre-commit, and commit, after the checkpoint completes or after a crash, is one
 * EndTxn. `fence` runs InitProducerId for a transactional id, which aborts whatever transaction is
 * open under it and bumps its epoch (so a zombie producer can write no more); an epoch of 0 in
 * the answer means the id had never been used.
 *
 * Outcomes are values; transient errors (coordinator loading or moving, concurrent transaction
 * operation) are retried inside.
 *
 * What a failed `EndTxn(commit)` proves: Weir uses each transactional id for exactly one
 * transaction, and only the coordinator moves its epoch past the recorded one (recovery never
 * fences an id a restored checkpoint recorded). The coordinator does that when it aborts a
 * transaction that outlived its timeout (it bumps the epoch, then aborts). So a fenced epoch
 * (INVALID_PRODUCER_EPOCH, PRODUCER_FENCED) or a completed abort (INVALID_TXN_STATE) means the
 * transaction was aborted and its records will never be visible: "aborted". An id the
 * coordinator no longer knows (INVALID_PRODUCER_ID_MAPPING: expired after
 * transactional.id.expiration.ms) proves nothing either way: "unknown".
 */
import type { Kafka } from "kafkajs";
import { sleep, systemClock } from "../../common/clock.ts";
import { describeError, externalError } from "../../common/errors.ts";
import { kafkaError } from "./client.ts";
import { createCluster, TRANSACTION_COORDINATOR, type InternalCluster, type ProducerIdentity } from "./kafkajs-internals.ts";

export interface TransactionHandle extends ProducerIdentity {
  readonly transactionalId: string;
  /** The writer's subtask and the records in the transaction, for messages (absent in older checkpoints). */
  readonly subtask?: number;
  readonly records?: number;
}

export type EndOutcome = "committed" | "aborted" | "unknown";

/** The answer to a lease probe: still ours, taken by a newer producer, or forgotten by the coordinator. */
export type LeaseState = "held" | "fenced" | "expired";

const FENCED = new Set(["INVALID_PRODUCER_EPOCH", "PRODUCER_FENCED"]);

const RETRIABLE = new Set([
  "CONCURRENT_TRANSACTIONS",
  "GROUP_LOAD_IN_PROGRESS",
  "GROUP_COORDINATOR_NOT_AVAILABLE",
  "NOT_COORDINATOR_FOR_GROUP",
  "COORDINATOR_LOAD_IN_PROGRESS",
  "COORDINATOR_NOT_AVAILABLE",
  "NOT_COORDINATOR",
  "REQUEST_TIMED_OUT",
  "NETWORK_EXCEPTION",
]);

const errorType = (e: unknown): string | undefined => (e as { type?: string }).type;


export interface BridgeOptions {
  /** For error messages. */
  readonly brokers: readonly string[];
  /** Attempts for transient errors (default 20, backing off from 50 ms to 1 s). */
  readonly attempts?: number;
  readonly transactionTimeoutMs: number;
}

export class TransactionBridge {
  private readonly kafka: Kafka;
  private readonly options: BridgeOptions;
  private cluster: InternalCluster | undefined;

  constructor(kafka: Kafka, options: BridgeOptions) {
    this.kafka = kafka;
    this.options = options;
  }

  private async connected(): Promise<InternalCluster> {
    if (this.cluster === undefined) {
      const cluster = createCluster(this.kafka);
      await cluster.connect();
      this.cluster = cluster;
    }
    return this.cluster;
  }

  private async withCoordinator<T>(transactionalId: string, what: string, call: (broker: Awaited<ReturnType<InternalCluster["findGroupCoordinator"]>>) => Promise<T>): Promise<T> {
    const attempts = this.options.attempts ?? 20;
    for (let attempt = 1; ; attempt++) {
      try {
        const cluster = await this.connected();
        const broker = await cluster.findGroupCoordinator({ groupId: transactionalId, coordinatorType: TRANSACTION_COORDINATOR });
        return await call(broker);
      } catch (e) {
        const type = errorType(e);
        const transient = type === undefined ? (e as { retriable?: boolean }).retriable === true : RETRIABLE.has(type);
        if (!transient || attempt >= attempts) {
          if (type === undefined) throw kafkaError(e, this.options.brokers, `${what} for transactional id '${transactionalId}'`);
          throw externalError("KAFKA_TXN_FAILED", `Kafka ${what} for transactional id '${transactionalId}' failed: ${describeError(e)}`, {
            cause: e,
            retriable: transient,
          });
        }
        await sleep(systemClock, Math.min(1_000, 50 * 2 ** (attempt - 1)));
      }
    }
  }

  /**
   * Commits (or aborts) the transaction named by `handle`; idempotent. The outcome says what
   * became of it (see above): "committed" (now or before), "aborted" (now or before), "unknown".
   */
  async end(handle: TransactionHandle, commit: boolean): Promise<EndOutcome> {
    try {
      await this.withCoordinator(handle.transactionalId, commit ? "commit" : "abort", (broker) =>
        broker.endTxn({
          transactionalId: handle.transactionalId,
          producerId: handle.producerId,
          producerEpoch: handle.producerEpoch,
          transactionResult: commit,
        }),
      );
      return commit ? "committed" : "aborted";
    } catch (e) {
      const type = errorType((e as { cause?: unknown }).cause);
      if (type !== undefined && (FENCED.has(type) || type === "INVALID_TXN_STATE")) return "aborted";
      if (type === "INVALID_PRODUCER_ID_MAPPING") return "unknown";
      throw e;
    }
  }

  /**
   * Whether `lease` (an identity this process got from `fence` on a transactional id it never
   * opens a transaction under) is still the newest producer of that id. Asks with an
   * EndTxn(abort) at the lease's epoch, which changes nothing: the coordinator answers
   * INVALID_TXN_STATE when the epoch is current (there is no transaction to end), a fenced epoch
   * when a newer producer initialised the id, INVALID_PRODUCER_ID_MAPPING when it forgot the id.
   */
  async probe(lease: TransactionHandle): Promise<LeaseState> {
    try {
      await this.withCoordinator(lease.transactionalId, "lease check", (broker) =>
        broker.endTxn({ transactionalId: lease.transactionalId, producerId: lease.producerId, producerEpoch: lease.producerEpoch, transactionResult: false }),
      );
      return "held"; // an abort of nothing succeeded: the epoch is current
    } catch (e) {
      const type = errorType((e as { cause?: unknown }).cause);
      if (type === "INVALID_TXN_STATE") return "held";
      if (type !== undefined && FENCED.has(type)) return "fenced";
      if (type === "INVALID_PRODUCER_ID_MAPPING") return "expired";
      throw e;
    }
  }

  /** Aborts anything open under `transactionalId` and fences older producers; epoch 0 = never used before. */
  fence(transactionalId: string): Promise<ProducerIdentity> {
    return this.withCoordinator(transactionalId, "fencing", (broker) =>
      broker.initProducerId({ transactionalId, transactionTimeout: this.options.transactionTimeoutMs }),
    );
  }

  async close(): Promise<void> {
    const cluster = this.cluster;
    this.cluster = undefined;
    await cluster?.disconnect().catch(() => undefined);
  }
}
