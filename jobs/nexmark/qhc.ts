/**
 * Nexmark qhc (not a Nexmark query: Weir's and bench/flink's high-cardinality case): bids keyed by
 * the (auction, bidder) pair, a running maximum price per pair in keyed value state, and a row
 * (auction, bidder, price, dateTime) each time a pair's maximum rises (its first bid included).
 * Millions of distinct pairs, most seen a few times: state far larger than a cache, few cache
 * hits, one state read (and often a write) per bid, the regime of a RocksDB state backend.
 *
 * Which bids raise a pair's maximum depends on the order they reach the keyed operator. A pair's
 * bids come from every split, so with more than one split that order (and so the output, not
 * just its order) depends on how the splits' streams interleave: only a run with one split has
 * a single right answer. The maximum per pair, and every row being a bid that was a new maximum
 * within its own split, hold for any interleaving.
 *
 *   weir run jobs/nexmark/qhc.ts --param events=N --param out=DIR
 *   weir run jobs/nexmark/qhc.ts --param events=N --state-cache-cells 16   # RocksDB per access
 */
import { valueState, type Collector } from "weir";
import { isBid, nexmarkJob } from "./common.ts";

export interface QhcRow {
  readonly auction: number;
  readonly bidder: number;
  readonly price: number;
  readonly dateTime: number;
}

export default nexmarkJob(
  "qhc",
  (events) =>
    events
      .filter(isBid, { name: "bids" })
      .keyBy(({ bid }) => `${bid.auction}/${bid.bidder}`)
      .process(
        {
          state: { max: valueState<number>() },
          processElement({ bid }, ctx, out: Collector<QhcRow>) {
            const max = ctx.state.max.value();
            if (max !== undefined && bid.price <= max) return;
            ctx.state.max.update(bid.price);
            out.collect({ auction: bid.auction, bidder: bid.bidder, price: bid.price, dateTime: bid.dateTime });
          },
        },
        { name: "max-per-pair" },
      ),
  { rowTime: (row) => row.dateTime, latencyTime: (row) => row.dateTime },
);
