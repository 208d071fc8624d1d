/**
 * Account totals: a deterministic generator emits `events` transactions `{account, amount, ts}`
 * over `accounts` accounts; keyed by account, a process function keeps each account's running
 * total in keyed state and emits `{account, total}` after every transaction.
 *
 * Every account belongs to one generator split (account mod splits), and a split emits its
 * transactions in one fixed order, so the output is the same multiset at any parallelism (and
 * the same sequence per account).
 *
 *   weir run jobs/account-totals.ts [--param events=N] [--param accounts=N] [--param seed=N]
 *                                   [--param splits=N] [--param rate=N] [--param out=DIR]
 */
import { generator, job, toFiles, valueState, type KeyedProcessFunction, type ValueStateDescriptor } from "weir";

export interface Transaction {
  readonly account: number;
  readonly amount: number;
  readonly ts: number;
}

export interface AccountTotal {
  readonly account: number;
  readonly total: number;
}

const BASE_TIME = Date.UTC(2026, 0, 1);

/** Transactions of split `split` (of `splits`) over `accounts` accounts; amounts are whole cents. */
export const transactions = (options: { events: number; accounts: number; splits: number; seed: number; rate?: number }) => {
  const { events, accounts, seed } = options;
  const splits = Math.max(1, Math.min(options.splits, accounts));
  const accountsOf = (split: number) => Math.ceil((accounts - split) / splits);
  return generator<Transaction>({
    name: "transactions",
    splits,
    seed,
    ...(options.rate === undefined ? {} : { ratePerSecond: options.rate }),
    recordsPerSplit: (split) => Math.floor(events / splits) + (split < events % splits ? 1 : 0),
    generate: ({ split, index, random }) => ({
      account: split + splits * random.int(accountsOf(split)),
      amount: random.int(150_000) - 50_000,
      ts: BASE_TIME + index * splits + split,
    }),
  });
};

/** Keeps each account's total in keyed state and emits it after every transaction. */
export const runningTotal: KeyedProcessFunction<Transaction, number, AccountTotal, { total: ValueStateDescriptor<number, number> }> = {
  state: { total: valueState(0) },
  processElement(t, ctx, out) {
    const total = ctx.state.total.value() + t.amount;
    ctx.state.total.update(total);
    out.collect({ account: ctx.key, total });
  },
};

export default job("account-totals", (env) => {
  const p = env.params;
  const rate = p.has("rate") ? p.number("rate", 0) : undefined;
  env
    .source(
      transactions({
        events: p.integer("events", 100_000),
        accounts: p.integer("accounts", 1_000),
        splits: p.integer("splits", 4),
        seed: p.integer("seed", 42),
        ...(rate === undefined ? {} : { rate }),
      }),
    )
    .keyBy((t) => t.account)
    .process(runningTotal, { name: "running-total" })
    .sink(toFiles<AccountTotal>(p.get("out", "out/account-totals")), { name: "totals" });
});
