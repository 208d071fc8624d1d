/**
 * The one place Weir loads kafkajs. Before kafkajs is first required, two of its modules are
 * replaced with Weir's: the aborted-transaction filter (aborted-filter.ts: kafkajs 2.2.4 leaks
 * records of interleaved aborted transactions to read_committed consumers) and the producer's
 * grouping by partition (group-per-partition.ts: kafkajs's takes quadratic time). Every value
 * import of kafkajs in Weir — and in its tests — goes through this module; type imports may come
 * from "kafkajs" directly.
 */
import { createRequire } from "node:module";
import { internalError } from "../../common/errors.ts";
import { filterAborted } from "./aborted-filter.ts";
import { groupMessagesPerPartition } from "./group-per-partition.ts";

const require = createRequire(import.meta.url);
const filterPath = require.resolve("kafkajs/src/consumer/filterAbortedMessages.js");
const batchPath = require.resolve("kafkajs/src/consumer/batch.js");
const groupPath = require.resolve("kafkajs/src/producer/groupMessagesPerPartition.js");

/** Puts `exports` in the require cache as the module at `path`, so kafkajs requires it instead. */
const replaceModule = (path: string, exports: unknown) => {
  const mod = new (require("node:module") as { Module: new (id: string) => NodeJS.Module }).Module(path);
  mod.filename = path;
  mod.loaded = true;
  mod.exports = exports;
  require.cache[path] = mod;
};

const installed = require.cache[filterPath]?.exports as unknown;
if (installed !== filterAborted) {
  if (require.cache[batchPath] !== undefined) {
    throw internalError(
      "KAFKAJS_LOADED_EARLY",
      "kafkajs was loaded before Weir could fix its read_committed filter and producer grouping; import kafkajs values through connectors/kafka/kafkajs.ts",
    );
  }
  replaceModule(filterPath, filterAborted);
  replaceModule(groupPath, groupMessagesPerPartition);
}

const kafkajs = require("kafkajs") as typeof import("kafkajs");

export const Kafka = kafkajs.Kafka;
export type Kafka = import("kafkajs").Kafka;
export const logLevel = kafkajs.logLevel;
export const AssignerProtocol = kafkajs.AssignerProtocol;
