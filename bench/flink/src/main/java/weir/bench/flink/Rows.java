package weir.bench.flink;

import java.util.List;

/**
 * Output and intermediate records of the queries (Flink POJOs). Output rows have Weir's field
 * names plus the contract's added time fields (NEXMARK-SPEC section 3, marked ⊕ there), and write
 * canonical(row) with their fields in ASCII order of the names (checked against a reflective
 * canonical form by `selfcheck`).
 */
public final class Rows {
    private Rows() {}

    static final long WINDOW_MS = 10_000;
    /** The watermark bound: a window's result is computable from event time end + 4000 on. */
    static final long WATERMARK_BOUND_MS = 4_000;

    /** A query output row. */
    public interface OutRow {
        /** ms of event time that attributes the row to a 10 s bucket. */
        long rowTime();

        /** ms of event time from which the row is computable (latency is measured from its scheduled emission). */
        long latencyTime();

        /** Writes the row's fields, sorted by name. */
        void canonical(Canon c);
    }

    static long tumblingEnd(long t) {
        return Math.floorDiv(t, WINDOW_MS) * WINDOW_MS + WINDOW_MS;
    }

    /** q0: {auction, bidder, price, dateTime, extra}. */
    public static class Q0Row implements OutRow {
        public long auction;
        public long bidder;
        public long price;
        public long dateTime;
        public String extra;

        public Q0Row() {}

        Q0Row(Bid b) {
            auction = b.auction;
            bidder = b.bidder;
            price = b.price;
            dateTime = b.dateTime;
            extra = b.extra;
        }

        @Override
        public long rowTime() {
            return dateTime;
        }

        @Override
        public long latencyTime() {
            return dateTime;
        }

        @Override
        public void canonical(Canon c) {
            c.num("auction", auction).num("bidder", bidder).num("dateTime", dateTime).str("extra", extra).num("price", price);
        }
    }

    /** q1: as q0 with price = bid.price * 0.908 (a double). */
    public static class Q1Row implements OutRow {
        public long auction;
        public long bidder;
        public double price;
        public long dateTime;
        public String extra;

        public Q1Row() {}

        Q1Row(Bid b) {
            auction = b.auction;
            bidder = b.bidder;
            price = b.price * 0.908;
            dateTime = b.dateTime;
            extra = b.extra;
        }

        @Override
        public long rowTime() {
            return dateTime;
        }

        @Override
        public long latencyTime() {
            return dateTime;
        }

        @Override
        public void canonical(Canon c) {
            c.num("auction", auction).num("bidder", bidder).num("dateTime", dateTime).str("extra", extra).num("price", price);
        }
    }

    /** q2: {auction, price, ⊕dateTime}. */
    public static class Q2Row implements OutRow {
        public long auction;
        public long price;
        public long dateTime;

        public Q2Row() {}

        Q2Row(Bid b) {
            auction = b.auction;
            price = b.price;
            dateTime = b.dateTime;
        }

        @Override
        public long rowTime() {
            return dateTime;
        }

        @Override
        public long latencyTime() {
            return dateTime;
        }

        @Override
        public void canonical(Canon c) {
            c.num("auction", auction).num("dateTime", dateTime).num("price", price);
        }
    }

    /** q3 join state: the seller's (name, city, state). */
    public static class Seller {
        public String name;
        public String city;
        public String state;

        public Seller() {}

        Seller(Person p) {
            name = p.name;
            city = p.city;
            state = p.state;
        }
    }

    /** q3 join state: an auction waiting for its seller. */
    public static class AuctionRef {
        public long id;
        public long dateTime;

        public AuctionRef() {}

        AuctionRef(Auction a) {
            id = a.id;
            dateTime = a.dateTime;
        }
    }

    /** q3: {name, city, state, id, ⊕dateTime} (id and dateTime of the auction). */
    public static class Q3Row implements OutRow {
        public String name;
        public String city;
        public String state;
        public long id;
        public long dateTime;

        public Q3Row() {}

        Q3Row(Seller s, long id, long dateTime) {
            name = s.name;
            city = s.city;
            state = s.state;
            this.id = id;
            this.dateTime = dateTime;
        }

        @Override
        public long rowTime() {
            return dateTime;
        }

        @Override
        public long latencyTime() {
            return dateTime;
        }

        @Override
        public void canonical(Canon c) {
            c.str("city", city).num("dateTime", dateTime).num("id", id).str("name", name).str("state", state);
        }
    }

    /** q5 stage 1 output: bids of one auction in one sliding window. */
    public static class WindowCount {
        public long auction;
        public long num;
        public long end;

        public WindowCount() {}

        WindowCount(long auction, long num, long end) {
            this.auction = auction;
            this.num = num;
            this.end = end;
        }
    }

    /** q5: {auction, num, ⊕end} (window end, exclusive). */
    public static class Q5Row implements OutRow {
        public long auction;
        public long num;
        public long end;

        public Q5Row() {}

        Q5Row(long auction, long num, long end) {
            this.auction = auction;
            this.num = num;
            this.end = end;
        }

        @Override
        public long rowTime() {
            return end - 1;
        }

        @Override
        public long latencyTime() {
            return end + WATERMARK_BOUND_MS;
        }

        @Override
        public void canonical(Canon c) {
            c.num("auction", auction).num("end", end).num("num", num);
        }
    }

    /** q7: {auction, price, bidder, dateTime, extra} (the winning bid of its 10 s tumbling window). */
    public static class Q7Row implements OutRow {
        public long auction;
        public long price;
        public long bidder;
        public long dateTime;
        public String extra;

        public Q7Row() {}

        Q7Row(Bid b) {
            this(b.auction, b.price, b.bidder, b.dateTime, b.extra);
        }

        Q7Row(long auction, long price, long bidder, long dateTime, String extra) {
            this.auction = auction;
            this.price = price;
            this.bidder = bidder;
            this.dateTime = dateTime;
            this.extra = extra;
        }

        @Override
        public long rowTime() {
            return dateTime;
        }

        @Override
        public long latencyTime() {
            return tumblingEnd(dateTime) + WATERMARK_BOUND_MS;
        }

        @Override
        public void canonical(Canon c) {
            c.num("auction", auction).num("bidder", bidder).num("dateTime", dateTime).str("extra", extra).num("price", price);
        }
    }

    /** q7: the bids at the highest price seen so far (per auction and window, then per window). */
    public static class Top {
        public long price;
        public List<Q7Row> bids;

        public Top() {}

        Top(long price, List<Q7Row> bids) {
            this.price = price;
            this.bids = bids;
        }
    }

    /** q7 stage 1 output: a Top of one auction in one window, with the window's end. */
    public static class WindowTop {
        public long price;
        public List<Q7Row> bids;
        public long end;

        public WindowTop() {}

        WindowTop(Top top, long end) {
            this.price = top.price;
            this.bids = top.bids;
            this.end = end;
        }
    }

    /** q8: {id, name, starttime} (starttime = the 10 s tumbling window's start). */
    public static class Q8Row implements OutRow {
        public long id;
        public String name;
        public long starttime;

        public Q8Row() {}

        Q8Row(long id, String name, long starttime) {
            this.id = id;
            this.name = name;
            this.starttime = starttime;
        }

        @Override
        public long rowTime() {
            return starttime;
        }

        @Override
        public long latencyTime() {
            return starttime + WINDOW_MS + WATERMARK_BOUND_MS;
        }

        @Override
        public void canonical(Canon c) {
            c.num("id", id).str("name", name).num("starttime", starttime);
        }
    }

    /** qhc's window accumulator: a pair's highest price and number of bids so far in one window. */
    public static class PairWindow {
        public long max;
        public long bids;

        public PairWindow() {}

        PairWindow(long max, long bids) {
            this.max = max;
            this.bids = bids;
        }
    }

    /** qhc: {auction, bidder, maxPrice, bids, windowEnd}: one (auction, bidder) pair in one 10 s tumbling window. */
    public static class QhcRow implements OutRow {
        public long auction;
        public long bidder;
        public long maxPrice;
        public long bids;
        public long windowEnd;

        public QhcRow() {}

        QhcRow(long auction, long bidder, long maxPrice, long bids, long windowEnd) {
            this.auction = auction;
            this.bidder = bidder;
            this.maxPrice = maxPrice;
            this.bids = bids;
            this.windowEnd = windowEnd;
        }

        @Override
        public long rowTime() {
            return windowEnd - 1;
        }

        @Override
        public long latencyTime() {
            return windowEnd + WATERMARK_BOUND_MS;
        }

        @Override
        public void canonical(Canon c) {
            c.num("auction", auction).num("bidder", bidder).num("bids", bids).num("maxPrice", maxPrice).num("windowEnd", windowEnd);
        }
    }
}
