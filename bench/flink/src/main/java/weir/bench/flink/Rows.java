package weir.bench.flink;

import java.util.List;

/** Output and intermediate records of the queries (Flink POJOs), with Weir's field names and order. */
public final class Rows {
    private Rows() {}

    /** A query output record, printed as Weir's JSON.stringify of it would be. */
    public interface JsonRow {
        String toJson();
    }

    /** q0: {auction, bidder, price, dateTime, extra}. */
    public static class Q0Row implements JsonRow {
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
        public String toJson() {
            StringBuilder sb = new StringBuilder(128);
            sb.append("{\"auction\":").append(auction).append(",\"bidder\":").append(bidder).append(",\"price\":").append(price)
                    .append(",\"dateTime\":").append(dateTime).append(",\"extra\":");
            Json.string(sb, extra);
            return sb.append('}').toString();
        }
    }

    /** q1: as q0 with price = bid.price * 0.908 (a double, printed as JS prints numbers). */
    public static class Q1Row implements JsonRow {
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
        public String toJson() {
            StringBuilder sb = new StringBuilder(128);
            sb.append("{\"auction\":").append(auction).append(",\"bidder\":").append(bidder).append(",\"price\":")
                    .append(Json.number(price)).append(",\"dateTime\":").append(dateTime).append(",\"extra\":");
            Json.string(sb, extra);
            return sb.append('}').toString();
        }
    }

    /** q2: {auction, price}. */
    public static class Q2Row implements JsonRow {
        public long auction;
        public long price;

        public Q2Row() {}

        Q2Row(Bid b) {
            auction = b.auction;
            price = b.price;
        }

        @Override
        public String toJson() {
            return "{\"auction\":" + auction + ",\"price\":" + price + "}";
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

    /** q3: {name, city, state, id} (id = the auction's id). */
    public static class Q3Row implements JsonRow {
        public String name;
        public String city;
        public String state;
        public long id;

        public Q3Row() {}

        Q3Row(Seller s, long id) {
            name = s.name;
            city = s.city;
            state = s.state;
            this.id = id;
        }

        @Override
        public String toJson() {
            StringBuilder sb = new StringBuilder(64);
            sb.append("{\"name\":");
            Json.string(sb, name);
            sb.append(",\"city\":");
            Json.string(sb, city);
            sb.append(",\"state\":");
            Json.string(sb, state);
            return sb.append(",\"id\":").append(id).append('}').toString();
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

    /** q5: {auction, num}. */
    public static class Q5Row implements JsonRow {
        public long auction;
        public long num;

        public Q5Row() {}

        Q5Row(long auction, long num) {
            this.auction = auction;
            this.num = num;
        }

        @Override
        public String toJson() {
            return "{\"auction\":" + auction + ",\"num\":" + num + "}";
        }
    }

    /** q7: {auction, price, bidder, dateTime, extra}. */
    public static class Q7Row implements JsonRow {
        public long auction;
        public long price;
        public long bidder;
        public long dateTime;
        public String extra;

        public Q7Row() {}

        Q7Row(Bid b) {
            auction = b.auction;
            price = b.price;
            bidder = b.bidder;
            dateTime = b.dateTime;
            extra = b.extra;
        }

        @Override
        public String toJson() {
            StringBuilder sb = new StringBuilder(128);
            sb.append("{\"auction\":").append(auction).append(",\"price\":").append(price).append(",\"bidder\":").append(bidder)
                    .append(",\"dateTime\":").append(dateTime).append(",\"extra\":");
            Json.string(sb, extra);
            return sb.append('}').toString();
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

    /** q8: {id, name, starttime}. */
    public static class Q8Row implements JsonRow {
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
        public String toJson() {
            StringBuilder sb = new StringBuilder(64);
            sb.append("{\"id\":").append(id).append(",\"name\":");
            Json.string(sb, name);
            return sb.append(",\"starttime\":").append(starttime).append('}').toString();
        }
    }
}
