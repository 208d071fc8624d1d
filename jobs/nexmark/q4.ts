/**
 * Nexmark q4, average winning price per category: for each auction, the highest bid among
 * bids with auction.dateTime <= bid.dateTime <= auction.expires; then, per category, the
 * average of those winning prices (integer, as Flink SQL's AVG over BIGINT).
 *
 * SQL (q4.sql) is an updating query: it revises each auction's maximum with every bid and
 * retracts old averages. Here each auction's winning price is emitted once, when event time
 * passes its `expires` (an event-time timer; no bid in the window can arrive later, since a
 * bid's time is above the watermark when it arrives), and the average per category is emitted
 * after every closed auction: the output is a stream of updates whose last value per category
 * equals the SQL result. A bounded run ends with the final watermark, which closes every auction.
 * Bids that arrive before their auction wait in keyed state; a closed auction keeps a small
 * marker so later bids for it are dropped instead of waiting forever.
 *
 *   weir run jobs/nexmark/q4.ts --param events=N --param out=DIR
 */
import { listState, valueState, type Collector } from "weir";
import { isAuction, isBid, nexmarkJob } from "./common.ts";

export interface Q4Row {
  readonly category: number;
  readonly avg: number;
}

interface Winner {
  readonly auction: number;
  readonly category: number;
  readonly price: number;
}

interface OpenAuction {
  readonly dateTime: number;
  readonly expires: number;
  readonly category: number;
}

export default nexmarkJob("q4", (events) => {
  const auctions = events.filter(isAuction, { name: "auctions" });
  const bids = events.filter(isBid, { name: "bids" });
  return auctions
    .connect(bids)
    .keyBy(
      ({ auction }) => auction.id,
      ({ bid }) => bid.auction,
    )
    .process(
      {
        state: {
          auction: valueState<OpenAuction>(),
          best: valueState<number>(),
          early: listState<readonly [number, number]>(),
          closed: valueState(false),
        },
        processElement1({ auction }, ctx) {
          const open = { dateTime: auction.dateTime, expires: auction.expires, category: auction.category };
          ctx.state.auction.update(open);
          let best = ctx.state.best.value();
          for (const [dateTime, price] of ctx.state.early.get()) {
            if (dateTime >= open.dateTime && dateTime <= open.expires && (best === undefined || price > best)) best = price;
          }
          ctx.state.early.clear();
          if (best !== undefined) ctx.state.best.update(best);
          ctx.timerService.registerEventTimeTimer(open.expires);
        },
        processElement2({ bid }, ctx) {
          if (ctx.state.closed.value()) return;
          const open = ctx.state.auction.value();
          if (open === undefined) {
            ctx.state.early.add([bid.dateTime, bid.price]);
            return;
          }
          const best = ctx.state.best.value();
          if (bid.dateTime >= open.dateTime && bid.dateTime <= open.expires && (best === undefined || bid.price > best)) {
            ctx.state.best.update(bid.price);
          }
        },
        onTimer(_timestamp, ctx, out: Collector<Winner>) {
          const open = ctx.state.auction.value();
          const best = ctx.state.best.value();
          if (open !== undefined && best !== undefined) out.collect({ auction: ctx.key, category: open.category, price: best });
          ctx.state.auction.clear();
          ctx.state.best.clear();
          ctx.state.closed.update(true);
        },
      },
      { name: "winning-bids" },
    )
    .keyBy((w) => w.category)
    .process(
      {
        state: { sum: valueState(0), count: valueState(0) },
        processElement(w, ctx, out: Collector<Q4Row>) {
          const sum = ctx.state.sum.value() + w.price;
          const count = ctx.state.count.value() + 1;
          ctx.state.sum.update(sum);
          ctx.state.count.update(count);
          out.collect({ category: w.category, avg: Math.trunc(sum / count) });
        },
      },
      { name: "average" },
    );
});
