import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import "./kafkajs.ts";
import { groupMessagesPerPartition } from "./group-per-partition.ts";

const require = createRequire(import.meta.url);

describe("groupMessagesPerPartition", () => {
  it("is what kafkajs's producer uses once Weir has loaded kafkajs", () => {
    expect(require("kafkajs/src/producer/groupMessagesPerPartition.js")).toBe(groupMessagesPerPartition);
  });

  it("groups each partition's messages in the order given", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 5 })), fc.integer({ min: 0, max: 3 }), (targets, partitions) => {
        const messages = targets.map((p, i) => ({ p, i }));
        const partitionMetadata = Array.from({ length: partitions }, (_, id) => ({ partitionId: id }));
        const grouped = groupMessagesPerPartition({ topic: "t", partitionMetadata, messages, partitioner: ({ message }) => message.p });
        const expected: Record<number, { p: number; i: number }[]> = {};
        if (partitions > 0) for (const m of messages) (expected[m.p] ??= []).push(m);
        expect(grouped).toEqual(expected);
      }),
    );
  });
});
