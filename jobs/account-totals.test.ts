/**
 * The account-totals example's tests, written with `weir/testing` as an example of how to test a
 * job: the process function alone in a harness (state, snapshot, restore at another
 * parallelism), then the whole job in-process with in-memory transactions.
 */
import { describe, expect, it } from "vitest";
import { keyedProcessHarness, testJob } from "weir/testing";
import accountTotals, { runningTotal, type AccountTotal, type Transaction } from "./account-totals.ts";

const tx = (account: number, amount: number, ts = 0): Transaction => ({ account, amount, ts });
const byAccount = (t: Transaction) => t.account;

describe("runningTotal (the job's process function)", () => {
  it("emits each account's running total after every transaction", async () => {
    const h = await keyedProcessHarness(runningTotal, { key: byAccount });
    expect(await h.processElements([tx(1, 500), tx(2, 70), tx(1, -200)])).toEqual([
      { account: 1, total: 500 },
      { account: 2, total: 70 },
      { account: 1, total: 300 },
    ]);
    await h.close();
  });

  it("keeps totals across a snapshot restored at another parallelism", async () => {
    const before = await keyedProcessHarness(runningTotal, { key: byAccount });
    const accounts = [...Array(20).keys()];
    await before.processElements(accounts.map((a) => tx(a, 100 * (a + 1))));
    const snapshot = await before.snapshot();
    await before.close();

    // Two new subtasks share the key groups: each account's total is restored in exactly one of
    // them (which continues it), the other starts the account from nothing.
    const after: AccountTotal[] = [];
    for (const subtask of [0, 1]) {
      const h = await keyedProcessHarness(runningTotal, { key: byAccount, restore: snapshot, parallelism: 2, subtask });
      after.push(...(await h.processElements(accounts.map((a) => tx(a, 1)))));
      await h.close();
    }
    for (const a of accounts) {
      const totals = after.filter((t) => t.account === a).map((t) => t.total);
      expect(totals.sort((x, y) => x - y)).toEqual([1, 100 * (a + 1) + 1]);
    }
  });
});

describe("the account-totals job", () => {
  it("totals in-memory transactions per account, in order per account, at parallelism 1 and 3", async () => {
    const input = [tx(7, 10), tx(8, 5), tx(7, -4), tx(9, 1), tx(8, 5), tx(7, 100)];
    for (const parallelism of [1, 3]) {
      const result = await testJob(accountTotals, { sources: { transactions: input }, parallelism });
      const totals = result.sink<AccountTotal>("totals");
      const seq = (a: number) => totals.filter((t) => t.account === a).map((t) => t.total);
      expect(seq(7)).toEqual([10, 6, 106]);
      expect(seq(8)).toEqual([5, 10]);
      expect(seq(9)).toEqual([1]);
      expect(totals).toHaveLength(input.length);
    }
  });

  it("gives the generator's transactions the same totals at any parallelism (its own source, small params)", async () => {
    const final = async (parallelism: number) => {
      const result = await testJob(accountTotals, { params: { events: 5_000, accounts: 40 }, parallelism, stateBackend: "rocksdb" });
      expect(result.sourceRecords).toBe(5_000);
      const last = new Map<number, number>();
      for (const t of result.sink<AccountTotal>("totals")) last.set(t.account, t.total);
      return [...last].sort((a, b) => a[0] - b[0]);
    };
    const one = await final(1);
    expect(one).toHaveLength(40);
    expect(await final(4)).toEqual(one);
  });
});
