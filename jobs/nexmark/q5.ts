/**
 * Nexmark q5, hot items: the auctions with the most bids in each sliding window of 10 s every
 * 2 s, as (auction, num); ties are all emitted (q5.sql: `num >= max(num)` per window). Each row
 * also carries its window's (exclusive) end, which Nexmark's row does not: added so that the
 * benchmark can attribute each row to a time.
 *
 * Two stages: bids counted per auction and window (keyed sliding-window aggregate), then the
 * counts of one window gathered by window (keyed by its end) and the maximum emitted when event
 * time passes the window's end — by then every count of that window has arrived, because an
 * upstream subtask emits a window's counts before it forwards the watermark that closed it.
 *
 *   weir run jobs/nexmark/q5.ts --param events=N --param out=DIR
 */
import { slidingEventTimeWindows, valueState, type Collector } from "weir";
import { OUT_OF_ORDERNESS_MS, isBid, nexmarkJob } from "./common.ts";

export interface Q5Row {
  readonly auction: number;
  readonly num: number;
  /** The window's end (exclusive). */
  readonly end: number;
}

type WindowCount = Q5Row;

export default nexmarkJob(
  "q5",
  (events) =>
    events
      .filter(isBid, { name: "bids" })
      .keyBy(({ bid }) => bid.auction)
      .window(slidingEventTimeWindows("10s", "2s"))
      .aggregate(
        { createAccumulator: () => 0, add: (_bid, n: number) => n + 1, getResult: (n: number) => n },
        (num, w): WindowCount => ({ auction: w.key, num, end: w.window.end }),
        { name: "count-per-auction" },
      )
      .keyBy((c) => c.end)
      .process(
        {
          state: { max: valueState(0), hot: valueState<number[]>([]) },
          processElement(c, ctx) {
            const max = ctx.state.max.value();
            if (c.num > max) {
              ctx.state.max.update(c.num);
              ctx.state.hot.update([c.auction]);
              ctx.timerService.registerEventTimeTimer(c.end - 1);
            } else if (c.num === max) {
              ctx.state.hot.update([...ctx.state.hot.value(), c.auction]);
            }
          },
          onTimer(timestamp, ctx, out: Collector<Q5Row>) {
            const num = ctx.state.max.value();
            // The timer is at end - 1.
            for (const auction of ctx.state.hot.value()) out.collect({ auction, num, end: timestamp + 1 });
            ctx.state.max.clear();
            ctx.state.hot.clear();
          },
        },
        { name: "max-per-window" },
      ),
  { rowTime: (row) => row.end - 1, latencyTime: (row) => row.end + OUT_OF_ORDERNESS_MS },
);
