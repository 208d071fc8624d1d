/**
 * The one place Weir loads kafkajs. Before kafkajs is first required, its aborted-transaction
 * filter is replaced with Weir's (aborted-filter.ts: kafkajs 2.2.4 leaks records of interleaved
 * aborted transactions to read_committed consumers). Every value import of kafkajs in Weir — and
 * in its tests — goes through this module; type imports may come from "kafkajs" directly.
 */
import { createRequire } from "node:module";
import { internalError } from "../../common/errors.ts";
import { filterAborted } from "./aborted-filter.ts";

const require = createRequire(import.meta.url);
const filterPath = require.resolve("kafkajs/src/consumer/filterAbortedMessages.js");
const batchPath = require.resolve("kafkajs/src/consumer/batch.js");

const installed = require.cache[filterPath]?.exports as unknown;
if (installed !== filterAborted) {
  if (require.cache[batchPath] !== undefined) {
    throw internalError(
      "KAFKAJS_LOADED_EARLY",
      "kafkajs was loaded before Weir could fix its read_committed filter; import kafkajs values through connectors/kafka/kafkajs.ts",
    );
  }
  const mod = new (require("node:module") as { Module: new (id: string) => NodeJS.Module }).Module(filterPath);
  mod.filename = filterPath;
  mod.loaded = true;
  mod.exports = filterAborted;
  require.cache[filterPath] = mod;
}

const kafkajs = require("kafkajs") as typeof import("kafkajs");

export const Kafka = kafkajs.Kafka;
export type Kafka = import("kafkajs").Kafka;
export const logLevel = kafkajs.logLevel;
export const AssignerProtocol = kafkajs.AssignerProtocol;
