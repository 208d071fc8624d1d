/** Specification of the print sink (connectors/print-sink.ts), with an injected `write`. */
import { describe, expect, test } from "vitest";
import { print } from "../../connectors/print-sink.ts";
import type { SinkContext } from "../../connectors/sink.ts";

const context = (subtask: number, parallelism: number): SinkContext => ({
  checkpointIntervalMs: 1_000,
  jobName: "t",
  operatorName: "s",
  subtask,
  parallelism,
  runId: "r1",
});

/** Creates a print writer whose output is collected; returns it with the collected text. */
const printed = async (subtask: number, parallelism: number) => {
  const chunks: string[] = [];
  const writer = await print<unknown>({ write: (text) => void chunks.push(text) }).createWriter(context(subtask, parallelism));
  return { writer, text: () => chunks.join("") };
};

const records: unknown[] = [{ word: "weir", count: 2 }, "a line\nwith a newline", 42, null, ["日本", "😀"], { nested: { a: [1, 2] } }];

describe("print", () => {
  test("at parallelism 1 prints one JSON line per record, without prefix, in order", async () => {
    const { writer, text } = await printed(0, 1);
    await writer.write(records.slice(0, 2));
    await writer.write(records.slice(2));
    const lines = text().split("\n");
    expect(lines.pop()).toBe("");
    expect(lines).toHaveLength(records.length);
    expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual(records);
    expect(lines[0]).toBe('{"word":"weir","count":2}');
  });

  test.each([
    [0, 2, "1> "],
    [1, 2, "2> "],
    [2, 3, "3> "],
    [9, 12, "10> "],
  ])("subtask %i of parallelism %i prefixes every line with %j", async (subtask, parallelism, prefix) => {
    const { writer, text } = await printed(subtask, parallelism);
    await writer.write(records);
    const lines = text().split("\n");
    expect(lines.pop()).toBe("");
    expect(lines).toHaveLength(records.length);
    for (const [i, line] of lines.entries()) {
      expect(line.startsWith(prefix)).toBe(true);
      expect(JSON.parse(line.slice(prefix.length)) as unknown).toEqual(records[i]);
    }
  });

  test("an empty batch prints nothing", async () => {
    const { writer, text } = await printed(0, 3);
    await writer.write([]);
    expect(text()).toBe("");
  });

  test("is not transactional: preCommit has no committables and commit and close succeed", async () => {
    const { writer, text } = await printed(0, 1);
    await writer.write([1]);
    expect(await writer.preCommit(1)).toEqual([]);
    await expect(writer.commit([])).resolves.toBeUndefined();
    await expect(writer.close()).resolves.toBeUndefined();
    expect(text()).toBe("1\n");
  });

  test("is named print unless named otherwise", () => {
    expect(print().name).toBe("print");
    expect(print({ name: "stdout" }).name).toBe("stdout");
  });
});
