/**
 * Nexmark q3, local item suggestion: sellers in Oregon, Idaho or California with auctions in
 * category 10, as (name, city, state, auction id), plus the auction's dateTime (not in Nexmark's
 * row: added so that the benchmark can attribute each row to a time).
 *
 * SQL: an unbounded inner join `auction A JOIN person P ON A.seller = P.id` (q3.sql). Here: both
 * filtered streams keyed by person id into a two-input keyed process function. Where it differs
 * from a generic SQL join, and why that is equivalent: a person id is generated once and never
 * updated, so once the person is known an auction joins at once and need not be kept; auctions
 * that arrive before their seller wait in keyed state until the person arrives.
 *
 *   weir run jobs/nexmark/q3.ts --param events=N --param out=DIR
 */
import { listState, valueState, type Collector } from "weir";
import { nexmarkJob, type Auction, type NexmarkEvent, type Person } from "./common.ts";

export interface Q3Row {
  readonly name: string;
  readonly city: string;
  readonly state: string;
  readonly id: number;
  /** The auction's dateTime. */
  readonly dateTime: number;
}

interface Seller {
  readonly name: string;
  readonly city: string;
  readonly state: string;
}

const STATES = new Set(["OR", "ID", "CA"]);
const localPerson = (e: NexmarkEvent): e is { kind: "person"; person: Person } => e.kind === "person" && STATES.has(e.person.state);
const category10 = (e: NexmarkEvent): e is { kind: "auction"; auction: Auction } => e.kind === "auction" && e.auction.category === 10;

export default nexmarkJob(
  "q3",
  (events) => {
    const persons = events.filter(localPerson, { name: "local-persons" });
    const auctions = events.filter(category10, { name: "category-10" });
    return persons.connect(auctions).keyBy(
      ({ person }) => person.id,
      ({ auction }) => auction.seller,
    ).process(
      {
        // Auctions waiting for their seller, as [id, dateTime].
        state: { seller: valueState<Seller>(), waiting: listState<readonly [number, number]>() },
        processElement1({ person }, ctx, out: Collector<Q3Row>) {
          const seller = { name: person.name, city: person.city, state: person.state };
          ctx.state.seller.update(seller);
          for (const [id, dateTime] of ctx.state.waiting.get()) out.collect({ ...seller, id, dateTime });
          ctx.state.waiting.clear();
        },
        processElement2({ auction }, ctx, out) {
          const seller = ctx.state.seller.value();
          if (seller === undefined) ctx.state.waiting.add([auction.id, auction.dateTime]);
          else out.collect({ ...seller, id: auction.id, dateTime: auction.dateTime });
        },
      },
      { name: "join" },
    );
  },
  { rowTime: (row) => row.dateTime, latencyTime: (row) => row.dateTime },
);
