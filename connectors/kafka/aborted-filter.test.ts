import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { filterAborted, type AbortedTransaction, type FetchedRecord } from "./aborted-filter.ts";

interface Rec extends FetchedRecord {
  readonly label: string;
  /** For transactional records: whether their transaction ended committed. */
  readonly committed?: boolean;
}

const ABORT = Buffer.from([0, 0, 0, 0]);
const COMMIT = Buffer.from([0, 0, 0, 1]);

type Step = { producer: number; action: "write" | "commit" | "abort" | "plain" };

/**
 * A partition log of interleaved transactions of several producers (plus plain records); every
 * transaction is ended by a marker, as everything a read_committed fetch returns is (below the LSO).
 */
const buildLog = (steps: readonly Step[], endings: readonly boolean[]) => {
  const records: { offset: number; producer: number; kind: "plain" | "txn" | "commit" | "abort"; txn?: number }[] = [];
  const open = new Map<number, number>();
  const txns: { producer: number; first: number; committed?: boolean; end?: number }[] = [];
  const end = (producer: number, commit: boolean) => {
    const t = open.get(producer);
    if (t === undefined) return;
    open.delete(producer);
    txns[t]!.committed = commit;
    txns[t]!.end = records.length;
    records.push({ offset: records.length, producer, kind: commit ? "commit" : "abort", txn: t });
  };
  for (const { producer, action } of steps) {
    if (action === "plain") records.push({ offset: records.length, producer: -1, kind: "plain" });
    else if (action === "write") {
      let t = open.get(producer);
      if (t === undefined) {
        t = txns.push({ producer, first: records.length }) - 1;
        open.set(producer, t);
      }
      records.push({ offset: records.length, producer, kind: "txn", txn: t });
    } else end(producer, action === "commit");
  }
  let i = 0;
  for (const producer of [...open.keys()]) end(producer, endings[i++ % Math.max(1, endings.length)] ?? true);
  const log: Rec[] = records.map((r) => {
    const pid = String(1000 + r.producer);
    if (r.kind === "plain") return { offset: String(r.offset), key: Buffer.from("k"), batchContext: { producerId: "-1", inTransaction: false }, label: `plain-${r.offset}` };
    if (r.kind === "txn") {
      return { offset: String(r.offset), key: Buffer.from("k"), batchContext: { producerId: pid, inTransaction: true }, label: `p${r.producer}-${r.offset}`, committed: txns[r.txn!]!.committed! };
    }
    return { offset: String(r.offset), key: r.kind === "abort" ? ABORT : COMMIT, isControlRecord: true, batchContext: { producerId: pid, inTransaction: true }, label: `marker-${r.offset}` };
  });
  /** What the broker sends with a fetch from `from`: aborted transactions not ended before it. */
  const abortedFrom = (from: number): AbortedTransaction[] =>
    txns.filter((t) => t.committed === false && t.end! >= from).map((t) => ({ producerId: String(1000 + t.producer), firstOffset: String(t.first) }));
  return { log, abortedFrom };
};

const stepArb: fc.Arbitrary<Step> = fc.record({
  producer: fc.integer({ min: 0, max: 3 }),
  action: fc.constantFrom<Step["action"]>("write", "write", "write", "commit", "abort", "plain"),
});

const data = (records: readonly Rec[]) => records.filter((r) => r.isControlRecord !== true).map((r) => r.label);

describe("filterAborted (read_committed)", () => {
  it("keeps exactly the plain records and those of committed transactions, for any interleaving and fetch start", () => {
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 80 }), fc.array(fc.boolean(), { minLength: 1, maxLength: 4 }), fc.nat(), (steps, endings, start) => {
        const { log, abortedFrom } = buildLog(steps, endings);
        const from = log.length === 0 ? 0 : start % log.length;
        const fetched = log.slice(from);
        const kept = filterAborted({ messages: fetched, abortedTransactions: abortedFrom(from) });
        expect(data(kept)).toEqual(data(fetched.filter((r) => !r.batchContext.inTransaction || r.committed === true)));
      }),
      { numRuns: 1_000 },
    );
  });

  it("fixes kafkajs 2.2.4: a fetch starting inside two interleaved aborted transactions leaks nothing", () => {
    const { log, abortedFrom } = buildLog(
      [
        { producer: 0, action: "write" },
        { producer: 1, action: "write" },
        { producer: 0, action: "write" },
        { producer: 1, action: "write" },
        { producer: 0, action: "abort" },
        { producer: 1, action: "abort" },
      ],
      [],
    );
    const fetched = log.slice(1);
    expect(data(filterAborted({ messages: fetched, abortedTransactions: abortedFrom(1) }))).toEqual([]);
    const kafkajsOriginal = createRequire(import.meta.url)("../../node_modules/kafkajs/src/consumer/filterAbortedMessages.js") as typeof filterAborted;
    // The original activates one aborted transaction per record: p1's record at offset 1 leaks.
    expect(data(kafkajsOriginal({ messages: fetched, abortedTransactions: abortedFrom(1) }))).toEqual(["p1-1"]);
  });
});
