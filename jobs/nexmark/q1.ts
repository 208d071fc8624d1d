/**
 * Nexmark q1, currency conversion: every bid with its price in euros, `0.908 * price` (Flink's
 * q1.sql; Beam's integer variant is price * 89 / 100).
 *
 *   weir run jobs/nexmark/q1.ts --param events=N --param out=DIR
 */
import { isBid, nexmarkJob } from "./common.ts";

export default nexmarkJob("q1", (events) =>
  events.filter(isBid, { name: "bids" }).map(({ bid }) => ({
    auction: bid.auction,
    bidder: bid.bidder,
    price: bid.price * 0.908,
    dateTime: bid.dateTime,
    extra: bid.extra,
  }), { name: "convert" }),
  { rowTime: (row) => row.dateTime, latencyTime: (row) => row.dateTime },
);
