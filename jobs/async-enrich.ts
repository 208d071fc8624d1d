/**
 * Async enrichment: a deterministic generator emits `events` orders `{order, customer}`; an
 * async lookup (a stand-in for a call to a customer service: it answers after 0–19 ms, varying
 * per record) adds the customer's tier, with up to `capacity` lookups in flight per subtask.
 * Orders whose lookup is in flight at a checkpoint are stored with it and looked up again after
 * a restore, so the committed output is the same multiset at any parallelism and across crashes.
 *
 *   weir run jobs/async-enrich.ts [--param events=N] [--param rate=N] [--param capacity=N]
 *                                 [--param ordered=true|false] [--param out=DIR]
 */
import { generator, job, toFiles } from "weir";

export interface Order {
  readonly order: number;
  readonly customer: number;
}

export interface EnrichedOrder extends Order {
  readonly tier: "gold" | "silver" | "bronze";
}

/** The fake customer service: the answer depends on the customer only; the delay varies per call. */
export const lookupTier = async (o: Order): Promise<EnrichedOrder> => {
  await new Promise((resolve) => setTimeout(resolve, (o.order * 7 + o.customer) % 20));
  const tier = o.customer % 10 === 0 ? "gold" : o.customer % 3 === 0 ? "silver" : "bronze";
  return { ...o, tier };
};

export default job("async-enrich", (env) => {
  const p = env.params;
  const events = p.integer("events", 100_000);
  const splits = 4;
  const rate = p.has("rate") ? p.number("rate", 0) : undefined;
  env
    .source(
      generator<Order>({
        name: "orders",
        splits,
        seed: 7,
        ...(rate === undefined ? {} : { ratePerSecond: rate }),
        recordsPerSplit: (split) => Math.floor(events / splits) + (split < events % splits ? 1 : 0),
        generate: ({ split, index, random }) => ({ order: index * splits + split, customer: random.int(5_000) }),
      }),
      { name: "orders" },
    )
    .asyncMap(lookupTier, { name: "customer-lookup", capacity: p.integer("capacity", 100), ordered: p.get("ordered", "true") !== "false", timeout: "10s" })
    .sink(toFiles<EnrichedOrder>(p.get("out", "out/async-enrich")), { name: "enriched" });
});
