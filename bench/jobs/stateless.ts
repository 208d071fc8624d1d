/**
 * `npm run bench`'s stateless pipeline: `records` records (4 splits) -> map -> filter -> discarding
 * sink, all chained: nothing crosses a thread, so it scales with the cores.
 */
import { discard, generator, job } from "../../index.ts";

export default job("bench-stateless", (env) => {
  const records = env.params.integer("records", 2_000_000);
  env
    .source(
      generator({
        splits: 4,
        recordsPerSplit: Math.ceil(records / 4),
        generate: ({ index, split }) => ({ id: index * 4 + split, amount: (index * 7919) % 1000 }),
      }),
    )
    .map((r) => ({ id: r.id, cents: r.amount * 100, big: r.amount > 500 }))
    .filter((r) => r.cents % 3 !== 0)
    .sink(discard());
});
