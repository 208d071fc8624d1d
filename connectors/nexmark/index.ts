/**
 * Nexmark: the auction-site event generator of the Nexmark benchmark (Beam's and Flink's suites),
 * as a deterministic Weir source.
 *
 *   import { nexmark } from "./connectors/nexmark/index.ts";
 *   const source = nexmark({ events: 1_000_000, splits: 4, seed: 7 }); // Source<Event, number>
 *   // split k of 4 (id "p4-k") emits generator counts k, k+4, k+8, ...
 *
 * Every event is a pure function of (seed, event id): `generateEvent(id, nexmarkConfig({ seed }))`.
 */
export { nexmark, nexmarkSplitIds, type NexmarkObserver, type NexmarkOptions } from "./source.ts";
export { dueCounts, firstCountAtOrAfter, scheduledAt, type EventTimeConfig, type Schedule } from "./schedule.ts";
export {
  defaultNexmarkConfig,
  eventTimestamp,
  generateEvent,
  lastAuction,
  lastPerson,
  nexmarkConfig,
  type NexmarkConfig,
} from "./generator.ts";
export { eventTime, type Auction, type Bid, type Event, type Person } from "./model.ts";
export { SplitMix64, eventRandom, toHalves } from "./splitmix64.ts";
