/**
 * Nexmark q8, monitor new users: people who opened an account and created an auction in the
 * same tumbling 10 s window, as (id, name, starttime).
 *
 * q8.sql groups persons and auctions by window and joins the two groupings on id = seller and
 * window; here a window coGroup on person.id = auction.seller emits each person of a window
 * once if that window holds at least one of their auctions (the SQL's GROUP BY makes the rows
 * distinct in the same way).
 *
 *   weir run jobs/nexmark/q8.ts --param events=N --param out=DIR
 */
import { tumblingEventTimeWindows } from "weir";
import { OUT_OF_ORDERNESS_MS, WINDOW_MS, isAuction, isPerson, nexmarkJob } from "./common.ts";

export interface Q8Row {
  readonly id: number;
  readonly name: string;
  readonly starttime: number;
}

export default nexmarkJob(
  "q8",
  (events) =>
    events
      .filter(isPerson, { name: "persons" })
      .coGroup(events.filter(isAuction, { name: "auctions" }))
      .where(({ person }) => person.id)
      .equalTo(({ auction }) => auction.seller)
      .window(tumblingEventTimeWindows("10s"))
      .apply<Q8Row>(
        (persons, auctions, w, out) => {
          if (auctions.length === 0) return;
          for (const { person } of persons) out.collect({ id: person.id, name: person.name, starttime: w.window.start });
        },
        { name: "new-users" },
      ),
  { rowTime: (row) => row.starttime, latencyTime: (row) => row.starttime + WINDOW_MS + OUT_OF_ORDERNESS_MS },
);
