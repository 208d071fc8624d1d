/**
 * The two kafkajs internals the transaction bridge needs, in one place. kafkajs is pinned to
 * exactly 2.2.4 (package.json) and frozen upstream, so these do not move under us; the module
 * checks the version it finds and refuses to run against another.
 *
 * - `Broker.prototype.initProducerId`: wrapped once so every InitProducerId response (producer id
 *   and epoch per transactional id) is recorded. kafkajs keeps them private; the 2PC commit from
 *   another process needs them.
 * - the Kafka client's private cluster factory: gives a cluster object whose brokers can send
 *   FindCoordinator, InitProducerId and EndTxn requests, which the public API cannot.
 */
import { createRequire } from "node:module";
import { internalError } from "../../common/errors.ts";
import type { Kafka } from "kafkajs";

const require = createRequire(import.meta.url);

export const KAFKAJS_VERSION = "2.2.4";

const installed = (require("kafkajs/package.json") as { version: string }).version;
if (installed !== KAFKAJS_VERSION) {
  throw internalError(
    "KAFKAJS_VERSION",
    `the Kafka transaction bridge is written against kafkajs ${KAFKAJS_VERSION}, found ${installed}; reinstall from the lock file`,
  );
}

export interface ProducerIdentity {
  readonly producerId: number;
  readonly producerEpoch: number;
}

export interface InternalBroker {
  initProducerId(request: { transactionalId: string; transactionTimeout: number }): Promise<ProducerIdentity>;
  endTxn(request: { transactionalId: string; producerId: number; producerEpoch: number; transactionResult: boolean }): Promise<unknown>;
}

export interface InternalCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  findGroupCoordinator(request: { groupId: string; coordinatorType: number }): Promise<InternalBroker>;
}

/** kafkajs's coordinator type for transactions (FindCoordinator key type 1). */
export const TRANSACTION_COORDINATOR = 1;

const identities = new Map<string, ProducerIdentity>();

const Broker = require("kafkajs/src/broker/index.js") as { prototype: InternalBroker };
const marker = Symbol.for("weir.kafkajs.initProducerId.wrapped");
const proto = Broker.prototype as InternalBroker & { [marker]?: true };
if (proto[marker] !== true) {
  const original = proto.initProducerId;
  proto.initProducerId = async function (this: InternalBroker, request) {
    const response = await original.call(this, request);
    identities.set(request.transactionalId, { producerId: response.producerId, producerEpoch: response.producerEpoch });
    return response;
  };
  proto[marker] = true;
}

/** The producer id and epoch a transactional id was last initialised with in this process. */
export const lastIdentity = (transactionalId: string): ProducerIdentity | undefined => identities.get(transactionalId);

export const forgetIdentity = (transactionalId: string): void => void identities.delete(transactionalId);

export const createCluster = (kafka: Kafka): InternalCluster => {
  const symbol = Object.getOwnPropertySymbols(kafka).find((s) => s.description === "private:Kafka:createCluster");
  if (symbol === undefined) throw internalError("KAFKAJS_INTERNALS", "kafkajs cluster factory not found (unexpected kafkajs build)");
  const factory = (kafka as unknown as Record<symbol, (options: object) => InternalCluster>)[symbol]!;
  return factory.call(kafka, { allowAutoTopicCreation: false });
};
