package weir.bench.flink;

/**
 * A Nexmark event: exactly one of person / auction / bid is set, as Weir's
 * {kind: "person" | "auction" | "bid", ...} union. Flink POJO (null fields are allowed).
 */
public class Event {
    public static final int PERSON = 0;
    public static final int AUCTION = 1;
    public static final int BID = 2;

    public int kind;
    public Person person;
    public Auction auction;
    public Bid bid;

    public Event() {}

    static Event of(Person p) {
        Event e = new Event();
        e.kind = PERSON;
        e.person = p;
        return e;
    }

    static Event of(Auction a) {
        Event e = new Event();
        e.kind = AUCTION;
        e.auction = a;
        return e;
    }

    static Event of(Bid b) {
        Event e = new Event();
        e.kind = BID;
        e.bid = b;
        return e;
    }

    /** The shape of JSON.stringify(event) in Weir. */
    String toJson() {
        StringBuilder sb = new StringBuilder(512);
        switch (kind) {
            case PERSON:
                sb.append("{\"kind\":\"person\",\"person\":");
                person.toJson(sb);
                break;
            case AUCTION:
                sb.append("{\"kind\":\"auction\",\"auction\":");
                auction.toJson(sb);
                break;
            default:
                sb.append("{\"kind\":\"bid\",\"bid\":");
                bid.toJson(sb);
                break;
        }
        return sb.append('}').toString();
    }
}
