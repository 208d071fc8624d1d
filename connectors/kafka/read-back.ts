/**
 * Reads back what a Kafka sink committed to its topic (for `weir verify --real-sinks`): every
 * partition from its earliest offset to the end it has now, read_committed (aborted transactions
 * and open ones are invisible, as to any downstream reader), values decoded as JSON, in offset
 * order per partition. It uses the Kafka source's own bounded reader.
 */
import { sleep, systemClock } from "../../common/clock.ts";
import { deserializers } from "./serde.ts";
import { fromKafka } from "./source.ts";

export const readCommittedValues = async (brokers: string | readonly string[], topic: string): Promise<unknown[]> => {
  const source = fromKafka<null, unknown>({
    brokers,
    topic,
    bounded: true,
    startFrom: "earliest",
    key: deserializers.none,
    value: deserializers.json,
  });
  const context = { now: () => Date.now(), jobName: "weir-read-back", runId: `read-back-${process.pid}` };
  const values: unknown[] = [];
  for (const split of await source.splits(context)) {
    const reader = await source.openReader(split, undefined, context);
    try {
      for (;;) {
        const result = await reader.read(10_000);
        if (result.kind === "end") break;
        if (result.kind === "idle") await sleep(systemClock, result.retryAfterMs);
        else for (const record of result.records) values.push(record.value);
      }
    } finally {
      await reader.close();
    }
  }
  return values;
};
