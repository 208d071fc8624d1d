/**
 * Nexmark qhc (not a Nexmark query: Weir's and bench/flink's high-cardinality case): bids keyed by
 * the (auction, bidder) pair, per pair a tumbling 10 s event-time window aggregating the highest
 * price and the number of bids, and one row (auction, bidder, maxPrice, bids, windowEnd) per pair
 * and window when the window fires. A pair bids about 3 times, all within one window (seed 0:
 * 1,000,000 events give 920,000 bids in 292,916 (pair, window) rows over 292,912 distinct pairs),
 * so a run touches millions of distinct keys, each a few times, while the open windows (about
 * 30,000 pairs per 10 s of event time) are cleared as they fire. One state read and write per bid
 * (the pair's open windows), and one read and delete per row; with the cache turned down
 * (`--state-cache-cells 16`) each is a RocksDB access, as with Flink's RocksDB state backend.
 *
 * The output is the same for any interleaving of the splits' streams: a window's aggregate does
 * not depend on the order of its bids, and no bid is late (each split is ordered in event time and
 * watermarks are tracked per split), so every bid is in its window when it fires.
 *
 * The row's time is its window's last millisecond (windowEnd − 1, as q5's), its latency time the
 * window's end + 4 s, the first event time at which the watermark can fire it.
 *
 *   weir run jobs/nexmark/qhc.ts --param events=N --param out=DIR
 *   weir run jobs/nexmark/qhc.ts --param events=N --state-cache-cells 16   # RocksDB per access
 */
import { tumblingEventTimeWindows } from "weir";
import { OUT_OF_ORDERNESS_MS, isBid, nexmarkJob } from "./common.ts";

export interface QhcRow {
  readonly auction: number;
  readonly bidder: number;
  /** The pair's highest bid price in the window. */
  readonly maxPrice: number;
  /** The pair's number of bids in the window. */
  readonly bids: number;
  /** The window's end (exclusive). */
  readonly windowEnd: number;
}

/** A pair's window so far: highest price and number of bids. */
interface PairWindow {
  max: number;
  bids: number;
}

export default nexmarkJob(
  "qhc",
  (events) =>
    events
      .filter(isBid, { name: "bids" })
      .keyBy(({ bid }) => `${bid.auction}/${bid.bidder}`)
      .window(tumblingEventTimeWindows("10s"))
      .aggregate(
        {
          createAccumulator: (): PairWindow => ({ max: -Infinity, bids: 0 }),
          add: ({ bid }, acc: PairWindow): PairWindow => {
            if (bid.price > acc.max) acc.max = bid.price;
            acc.bids += 1;
            return acc;
          },
          getResult: (acc: PairWindow) => acc,
        },
        (acc, w): QhcRow => {
          const slash = w.key.indexOf("/");
          return {
            auction: Number(w.key.slice(0, slash)),
            bidder: Number(w.key.slice(slash + 1)),
            maxPrice: acc.max,
            bids: acc.bids,
            windowEnd: w.window.end,
          };
        },
        { name: "max-per-pair" },
      ),
  { rowTime: (row) => row.windowEnd - 1, latencyTime: (row) => row.windowEnd + OUT_OF_ORDERNESS_MS },
);
