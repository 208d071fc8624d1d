/**
 * Nexmark q7, highest bid: per tumbling 10 s window, the bids with the window's highest price,
 * as (auction, price, bidder, dateTime, extra).
 *
 * Two stages: the highest bids per auction and window (keyed window aggregate, keeps only the
 * bids at the running maximum), then per window (keyed by its end) the overall maximum, emitted
 * when event time passes the window's end. Differs from q7.sql in one corner: the SQL joins on
 * `dateTime BETWEEN window_end - 10 s AND window_end`, inclusive at both ends, so a bid exactly
 * at a window's end (which belongs to the next window) could also match the previous window's
 * maximum; here, as in Beam's Query7, a bid belongs to exactly one window [start, end).
 *
 *   weir run jobs/nexmark/q7.ts --param events=N --param out=DIR
 */
import { tumblingEventTimeWindows, valueState, type Bid, type Collector } from "weir";
import { OUT_OF_ORDERNESS_MS, WINDOW_MS, isBid, nexmarkJob } from "./common.ts";

export interface Q7Row {
  readonly auction: number;
  readonly price: number;
  readonly bidder: number;
  readonly dateTime: number;
  readonly extra: string;
}

interface Top {
  readonly price: number;
  readonly bids: Q7Row[];
}

interface WindowTop extends Top {
  readonly end: number;
}

/** End of the tumbling 10 s window holding `t` (windows are aligned at epoch 0). */
const windowEnd = (t: number) => t - (t % WINDOW_MS) + WINDOW_MS;

const row = (bid: Bid): Q7Row => ({ auction: bid.auction, price: bid.price, bidder: bid.bidder, dateTime: bid.dateTime, extra: bid.extra });

export default nexmarkJob(
  "q7",
  (events) =>
    events
      .filter(isBid, { name: "bids" })
      .keyBy(({ bid }) => bid.auction)
      .window(tumblingEventTimeWindows("10s"))
      .aggregate(
        {
          createAccumulator: (): Top => ({ price: -1, bids: [] }),
          add: ({ bid }, top: Top): Top => {
            if (bid.price > top.price) return { price: bid.price, bids: [row(bid)] };
            if (bid.price === top.price) top.bids.push(row(bid));
            return top;
          },
          getResult: (top: Top) => top,
        },
        (top, w): WindowTop => ({ ...top, end: w.window.end }),
        { name: "top-per-auction" },
      )
      .keyBy((t) => t.end)
      .process(
        {
          state: { top: valueState<Top>() },
          processElement(t, ctx) {
            const top = ctx.state.top.value();
            if (top === undefined || t.price > top.price) {
              ctx.state.top.update({ price: t.price, bids: t.bids });
              ctx.timerService.registerEventTimeTimer(t.end - 1);
            } else if (t.price === top.price) {
              ctx.state.top.update({ price: top.price, bids: [...top.bids, ...t.bids] });
            }
          },
          onTimer(_timestamp, ctx, out: Collector<Q7Row>) {
            for (const bid of ctx.state.top.value()?.bids ?? []) out.collect(bid);
            ctx.state.top.clear();
          },
        },
        { name: "max-per-window" },
      ),
  { rowTime: (bid) => bid.dateTime, latencyTime: (bid) => windowEnd(bid.dateTime) + OUT_OF_ORDERNESS_MS },
);
