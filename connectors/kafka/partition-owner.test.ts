import { describe, expect, it } from "vitest";
import { partitionOwner } from "./source.ts";

/** Java's String.hashCode and Flink's KafkaSourceEnumerator.getSplitOwner, in 64-bit arithmetic. */
const flinkOwner = (topic: string, partition: number, parallelism: number): number => {
  let h = 0n;
  for (const c of topic) h = BigInt.asIntN(32, h * 31n + BigInt(c.charCodeAt(0)));
  const start = Number(BigInt.asIntN(32, h * 31n) & 0x7fffffffn) % parallelism;
  return (start + partition) % parallelism;
};

describe("partitionOwner", () => {
  it("is Flink's owner function: a start subtask from the topic, then round robin by partition", () => {
    for (const topic of ["orders", "transactions", "disc-in-1796107693324", "a", "ünïcode"]) {
      for (const parallelism of [1, 2, 3, 7]) {
        for (let p = 0; p < 20; p++) expect(partitionOwner(topic, p, parallelism)).toBe(flinkOwner(topic, p, parallelism));
      }
    }
  });
});
