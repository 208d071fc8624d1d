/**
 * kafkajs clients as Weir uses them: quiet logs, short connection retries (Weir's restart
 * strategy is the retry loop), and failures turned into WeirErrors that name the brokers.
 */
import type { Kafka as KafkaClient } from "kafkajs";
import { Kafka, logLevel } from "./kafkajs.ts";
import { describeError, externalError, isWeirError, type WeirError } from "../../common/errors.ts";

export interface KafkaClientOptions {
  readonly brokers: readonly string[];
  readonly clientId?: string;
}

export const brokerList = (brokers: string | readonly string[]): string[] =>
  (typeof brokers === "string" ? brokers.split(",") : [...brokers]).map((b) => b.trim()).filter((b) => b.length > 0);

export const createKafka = (options: KafkaClientOptions): KafkaClient =>
  new Kafka({
    clientId: options.clientId ?? "weir",
    brokers: [...options.brokers],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3_000,
    requestTimeout: 30_000,
    retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2_000 },
  });

const CONNECTION_ERRORS = new Set(["KafkaJSConnectionError", "KafkaJSNumberOfRetriesExceeded", "KafkaJSBrokerNotFound", "KafkaJSNonRetriableError"]);

/** Wraps a kafkajs failure: unreachable brokers get `KAFKA_UNREACHABLE` naming the addresses; both retriable (restart). */
export const kafkaError = (e: unknown, brokers: readonly string[], what: string, operator?: string): WeirError => {
  if (isWeirError(e)) return operator === undefined ? e : e.withContext({ operator });
  const name = (e as { name?: string }).name ?? "";
  const text = describeError(e);
  const unreachable = CONNECTION_ERRORS.has(name) && /connect|ECONNREFUSED|ENOTFOUND|timeout|Connection/i.test(text + describeError((e as { cause?: unknown }).cause ?? ""));
  if (unreachable) {
    return externalError("KAFKA_UNREACHABLE", `cannot reach Kafka at ${brokers.join(",")} (${what}): ${text}; is the broker running?`, {
      cause: e,
      retriable: true,
      ...(operator === undefined ? {} : { operator }),
    });
  }
  // Retriable: a restart from the latest checkpoint (with new clients) is the retry. kafkajs's
  // own flag only says whether repeating the same request could help.
  return externalError("KAFKA_FAILED", `Kafka ${what} failed (${brokers.join(",")}): ${text}`, {
    cause: e,
    retriable: true,
    ...(operator === undefined ? {} : { operator }),
  });
};
