/**
 * The Nexmark generator alone: events/s of `generateEvent`, median of 5 rounds of 300k events
 * (the ceiling for Weir's Nexmark queries on this machine).
 *
 *   npx tsx bench/nexmark-generator.ts
 */
import { generateEvent, nexmarkConfig } from "../connectors/nexmark/index.ts";

const config = nexmarkConfig({ seed: 0 });
const rates: number[] = [];
for (let round = 0; round < 5; round++) {
  const started = performance.now();
  for (let i = 0; i < 300_000; i++) generateEvent(config.firstEventId + round * 300_000 + i, config);
  rates.push(300_000 / ((performance.now() - started) / 1000));
}
rates.sort((a, b) => a - b);
console.log(`Nexmark generator: median ${Math.round(rates[2]!).toLocaleString("en-US")} events/s (rounds: ${rates.map((r) => Math.round(r)).join(", ")})`);
