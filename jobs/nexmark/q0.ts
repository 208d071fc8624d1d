/**
 * Nexmark q0, pass-through: every bid as (auction, bidder, price, dateTime, extra). Measures
 * the engine's fixed cost per record (source, serialization, sink).
 *
 *   weir run jobs/nexmark/q0.ts --param events=N --param out=DIR
 */
import { isBid, nexmarkJob } from "./common.ts";

export default nexmarkJob("q0", (events) =>
  events.filter(isBid, { name: "bids" }).map(({ bid }) => ({
    auction: bid.auction,
    bidder: bid.bidder,
    price: bid.price,
    dateTime: bid.dateTime,
    extra: bid.extra,
  }), { name: "project" }),
  { rowTime: (row) => row.dateTime, latencyTime: (row) => row.dateTime },
);
