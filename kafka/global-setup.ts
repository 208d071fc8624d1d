/**
 * Vitest globalSetup: ONE Kafka broker for the whole test run, in the main vitest process.
 * Tests read its address with `kafkaBootstrap()` from test/support/kafka.ts (vitest `inject`).
 *
 *   // vitest.config.ts
 *   test: { globalSetup: ["kafka/global-setup.ts"] }
 *
 * Costs ~3 s of wall time per run once the jars are in ~/.m2 (the first run also resolves them with
 * Maven). WEIR_KAFKA_BOOTSTRAP=127.0.0.1:9092 uses a broker that is already running (for example
 * `npm run kafka:start`) instead of starting one; tests then share that broker's topics.
 */
import type { TestProject } from "vitest/node";
import { startBroker } from "./broker.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** "127.0.0.1:PORT" of the run's Kafka broker. */
    kafkaBootstrap: string;
  }
}

/** What this setup provides to tests (importing it also brings the `ProvidedContext` augmentation in). */
export type KafkaProvidedKey = "kafkaBootstrap";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env.WEIR_KAFKA_BOOTSTRAP;
  if (external !== undefined && external !== "") {
    project.provide("kafkaBootstrap", external);
    return async () => {};
  }
  const started = performance.now();
  const broker = await startBroker({});
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stderr.write(`Kafka test broker ready at ${broker.bootstrap} in ${seconds} s (data ${broker.dataDir})\n`);
  project.provide("kafkaBootstrap", broker.bootstrap);
  return () => broker.stop();
}
