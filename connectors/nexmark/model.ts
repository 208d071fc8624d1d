/**
 * The Nexmark records (as Beam's and Flink's `model/{Person,Auction,Bid}.java`), as plain
 * serialisable objects. Ids are numbers (they stay far below 2^53); timestamps are ms since the
 * epoch. Field order is fixed (the generator sizes `extra` by the JSON length in this order).
 */
export interface Person {
  readonly id: number;
  readonly name: string;
  readonly emailAddress: string;
  readonly creditCard: string;
  readonly city: string;
  readonly state: string;
  readonly dateTime: number;
  readonly extra: string;
}

export interface Auction {
  readonly id: number;
  readonly itemName: string;
  readonly description: string;
  readonly initialBid: number;
  readonly reserve: number;
  readonly dateTime: number;
  readonly expires: number;
  readonly seller: number;
  readonly category: number;
  readonly extra: string;
}

/** A bid, with the `channel` and `url` that Flink's Nexmark adds to Beam's. */
export interface Bid {
  readonly auction: number;
  readonly bidder: number;
  readonly price: number;
  readonly channel: string;
  readonly url: string;
  readonly dateTime: number;
  readonly extra: string;
}

export type Event =
  | { readonly kind: "person"; readonly person: Person }
  | { readonly kind: "auction"; readonly auction: Auction }
  | { readonly kind: "bid"; readonly bid: Bid };

/** The event's time (its record's `dateTime`). */
export const eventTime = (event: Event): number => {
  switch (event.kind) {
    case "person":
      return event.person.dateTime;
    case "auction":
      return event.auction.dateTime;
    case "bid":
      return event.bid.dateTime;
  }
};
