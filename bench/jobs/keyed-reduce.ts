/**
 * `npm run bench`'s keyed reduce: `records` records over `keys` keys (round-robin, 4 splits) ->
 * keyBy -> running sum -> discarding sink. With `random=1`, keys are drawn at random from as many
 * keys as records (the large-state case: few cache hits).
 */
import { discard, generator, job } from "../../index.ts";

export default job("bench-keyed-reduce", (env) => {
  const records = env.params.integer("records", 2_000_000);
  const keys = env.params.integer("keys", 100_000);
  const random = env.params.integer("random", 0) === 1;
  env
    .source(
      generator({
        splits: 4,
        seed: 42,
        recordsPerSplit: Math.ceil(records / 4),
        generate: random ? (g) => ({ key: g.random.int(records), value: 1 }) : ({ index, split }) => ({ key: (index * 4 + split) % keys, value: 1 }),
      }),
    )
    .keyBy((r) => r.key)
    .reduce((a, b) => ({ key: a.key, value: a.value + b.value }))
    .sink(discard());
});
