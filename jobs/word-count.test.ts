/**
 * The word-count example's tests, written with `weir/testing`: the job runs in-process on
 * in-memory lines (its file source is replaced by name), and its sink's committed output is
 * checked as an array.
 */
import { describe, expect, it } from "vitest";
import { testJob } from "weir/testing";
import wordCount, { type WordCount } from "./word-count.ts";

/** The last count of each word: its total. */
const totals = (counts: readonly WordCount[]) => Object.fromEntries(counts.map((c) => [c.word, c.count]));

describe("the word-count job", () => {
  it("counts lower-cased words, emitting the running count per word", async () => {
    const result = await testJob(wordCount, { sources: { lines: ["The weir, the river", "", "Weir's water: the WEIR"] } });
    const counts = result.sink<WordCount>("counts");
    expect(counts.filter((c) => c.word === "the").map((c) => c.count)).toEqual([1, 2, 3]);
    expect(totals(counts)).toEqual({ the: 3, weir: 2, river: 1, "weir's": 1, water: 1 });
  });

  it("gives the same totals at parallelism 1 and 3, with lines in three splits", async () => {
    const lines = Array.from({ length: 300 }, (_, i) => `w${i % 17} w${i % 5} Été naïve`);
    const splits = [lines.slice(0, 100), lines.slice(100, 200), lines.slice(200)];
    const one = totals((await testJob(wordCount, { sources: { lines: { splits } } })).sink<WordCount>("counts"));
    const three = totals((await testJob(wordCount, { sources: { lines: { splits } }, parallelism: 3 })).sink<WordCount>("counts"));
    expect(three).toEqual(one);
    expect(one["été"]).toBe(300);
    expect(one["w0"]).toBe(18 + 60);
  });

  it("names the job's sources when a test names one it does not have", async () => {
    await expect(testJob(wordCount, { sources: { line: ["a"] } })).rejects.toThrow(/job 'word-count' has no source 'line' \(its sources: 'lines'\)/);
  });
});
