/**
 * Nexmark q2, selection: (auction, price) of the bids on every 123rd auction
 * (`MOD(auction, 123) = 0`), plus the bid's dateTime (not in Nexmark's row: added so that the
 * benchmark can attribute each row to a time, NEXMARK-SPEC.md §3).
 *
 *   weir run jobs/nexmark/q2.ts --param events=N --param out=DIR
 */
import { nexmarkJob, type Bid, type NexmarkEvent } from "./common.ts";

const selected = (e: NexmarkEvent): e is { kind: "bid"; bid: Bid } => e.kind === "bid" && e.bid.auction % 123 === 0;

export default nexmarkJob(
  "q2",
  (events) =>
    events.filter(selected, { name: "select" }).map(({ bid }) => ({ auction: bid.auction, price: bid.price, dateTime: bid.dateTime }), { name: "project" }),
  { rowTime: (row) => row.dateTime, latencyTime: (row) => row.dateTime },
);
