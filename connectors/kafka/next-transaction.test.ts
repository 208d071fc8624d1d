import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { NextTransaction } from "./next-transaction.ts";

/** Opens are promises the test settles by hand, so "opened ahead of time" is observable without a clock. */
const fakeOpener = () => {
  const opened: number[] = [];
  const disposed: number[] = [];
  const pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  const open = (seq: number) => {
    opened.push(seq);
    return new Promise<number>((resolve, reject) => pending.set(seq, { resolve: () => resolve(seq), reject }));
  };
  const finish = (seq: number) => pending.get(seq)!.resolve();
  const fail = (seq: number, e: Error) => pending.get(seq)!.reject(e);
  const dispose = async (seq: number) => void disposed.push(seq);
  return { open, dispose, opened, disposed, finish, fail };
};

describe("NextTransaction", () => {
  it("opens the next transaction ahead, before anyone asks for it, and hands that one out", async () => {
    const o = fakeOpener();
    const next = new NextTransaction({ open: o.open, dispose: o.dispose });
    next.openAhead();
    expect(o.opened).toEqual([0]);
    o.finish(0);
    expect(await next.take()).toBe(0);
    expect(o.opened).toEqual([0]); // not opened a second time
  });

  it("opens one on the spot when none was opened ahead", async () => {
    const o = fakeOpener();
    const next = new NextTransaction({ open: o.open, dispose: o.dispose, firstSeq: 7 });
    const taken = next.take();
    expect(o.opened).toEqual([7]);
    o.finish(7);
    expect(await taken).toBe(7);
    expect(next.nextSeq).toBe(8);
  });

  it("nextSeq is the number of the transaction opened ahead until it is taken (recovery must fence it)", () => {
    const o = fakeOpener();
    const next = new NextTransaction({ open: o.open, dispose: o.dispose });
    void next.take();
    next.openAhead();
    expect(next.isOpenAhead).toBe(true);
    expect(next.nextSeq).toBe(1);
    void next.take();
    expect(next.nextSeq).toBe(2);
  });

  it("opening ahead twice opens one transaction", () => {
    const o = fakeOpener();
    const next = new NextTransaction({ open: o.open, dispose: o.dispose });
    next.openAhead();
    next.openAhead();
    expect(o.opened).toEqual([0]);
  });

  it("any sequence of openAhead and take opens consecutive numbers, each once, and take returns them in order", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.boolean(), { maxLength: 30 }), fc.nat({ max: 100 }), async (steps, firstSeq) => {
        const opened: number[] = [];
        const next = new NextTransaction({ open: async (seq) => (opened.push(seq), seq), dispose: async () => undefined, firstSeq });
        const taken: number[] = [];
        for (const take of steps) {
          if (take) taken.push(await next.take());
          else next.openAhead();
        }
        expect(opened).toEqual(Array.from({ length: opened.length }, (_, i) => firstSeq + i));
        expect(taken).toEqual(Array.from({ length: taken.length }, (_, i) => firstSeq + i));
        expect(opened.length - taken.length).toBe(next.isOpenAhead ? 1 : 0);
        expect(next.nextSeq).toBe(firstSeq + taken.length);
      }),
    );
  });

  it("an open ahead that failed is reported by take, not before", async () => {
    const o = fakeOpener();
    const next = new NextTransaction({ open: o.open, dispose: o.dispose });
    next.openAhead();
    o.fail(0, new Error("broker down"));
    await new Promise((r) => setImmediate(r)); // no unhandled rejection meanwhile
    await expect(next.take()).rejects.toThrow("broker down");
  });

  it("close disposes of the transaction opened ahead once its open finishes, and opens none ahead after", async () => {
    const o = fakeOpener();
    const next = new NextTransaction({ open: o.open, dispose: o.dispose });
    next.openAhead();
    const closed = next.close();
    expect(o.disposed).toEqual([]);
    o.finish(0);
    await closed;
    expect(o.disposed).toEqual([0]);
    next.openAhead();
    expect(o.opened).toEqual([0]);
  });

  it("close after a failed open ahead has nothing to dispose of", async () => {
    const o = fakeOpener();
    const next = new NextTransaction({ open: o.open, dispose: o.dispose });
    next.openAhead();
    o.fail(0, new Error("broker down"));
    await next.close();
    expect(o.disposed).toEqual([]);
  });
});
