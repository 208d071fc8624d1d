package weir.bench.flink;

import java.io.Serializable;

/**
 * A port of Weir's connectors/nexmark/generator.ts: every event is a pure function of
 * (config, event id), drawn from its own SplitMix64 stream, with the same draws in the same
 * order, so the events are bit-identical to Weir's. See the TS file for the documentation of each
 * rule; the comments here only note where Java needs care to match JS.
 */
public final class NexmarkGenerator implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Weir's NexmarkConfig with its defaults. */
    public static final class Config implements Serializable {
        private static final long serialVersionUID = 1L;
        public long seed = 0;
        public long firstEventId = 0;
        public double firstEventRate = 10_000;
        public long numEventGenerators = 1;
        /** Date.UTC(2015, 6, 15). */
        public long baseTime = 1436918400000L;
        public long firstPersonId = 1000;
        public long firstAuctionId = 1000;
        public long firstCategoryId = 10;
        public long numCategories = 5;
        public long numActivePeople = 1000;
        public long numInFlightAuctions = 100;
        public long personIdLead = 10;
        public long auctionIdLead = 10;
        public long hotAuctionRatio = 2;
        public long hotSellersRatio = 4;
        public long hotBiddersRatio = 4;
        public long hotChannelsRatio = 2;
        public long avgPersonByteSize = 200;
        public long avgAuctionByteSize = 500;
        public long avgBidByteSize = 100;
    }

    static final long PERSON_PROPORTION = 1;
    static final long AUCTION_PROPORTION = 3;
    static final long PROPORTION_DENOMINATOR = 50;
    static final long HOT_BATCH = 100;
    static final int CHANNELS_NUMBER = 10_000;

    static final long PERSON_JSON_OVERHEAD = 95;
    static final long AUCTION_JSON_OVERHEAD = 119;
    static final long BID_JSON_OVERHEAD = 54;

    private static final String[] FIRST_NAMES = {"Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"};
    private static final String[] LAST_NAMES = {"Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"};
    private static final String[] CITIES = {"Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond", "Seattle", "Kent", "Cheyenne"};
    private static final String[] STATES = {"AZ", "CA", "ID", "OR", "WA", "WY"};
    private static final String[] HOT_CHANNELS = {"Google", "Facebook", "Baidu", "Apple"};

    /** "NEXMARK!": channel URLs do not depend on the config's seed. */
    static final long CHANNEL_SEED = 0x4E45584D41524B21L;
    static final String[] HOT_URLS = new String[HOT_CHANNELS.length];
    private static final String[] CHANNEL_URLS = new String[CHANNELS_NUMBER];

    static {
        for (int i = 0; i < HOT_CHANNELS.length; i++) {
            HOT_URLS[i] = baseUrl(SplitMix64.eventRandom(CHANNEL_SEED, CHANNELS_NUMBER + i));
        }
        for (int c = 0; c < CHANNELS_NUMBER; c++) {
            SplitMix64 r = SplitMix64.eventRandom(CHANNEL_SEED, c);
            String url = baseUrl(r);
            if (r.nextInt(10) > 0) url += "&channel_id=" + Math.abs((long) Integer.reverse(c));
            CHANNEL_URLS[c] = url;
        }
    }

    private final Config config;

    public NexmarkGenerator(Config config) {
        this.config = config;
    }

    public Config config() {
        return config;
    }

    /**
     * baseTime + floor(n * gens * 1000 / rate), computed as JS does: the product is exact (a long,
     * then an exact double below 2^53), divided by the double rate.
     */
    public long eventTimestamp(long n) {
        return config.baseTime + (long) Math.floor((double) (n * config.numEventGenerators * 1000L) / config.firstEventRate);
    }

    static long lastPerson(long e) {
        return Math.floorDiv(e, PROPORTION_DENOMINATOR);
    }

    static long lastAuction(long e) {
        long epoch = Math.floorDiv(e, PROPORTION_DENOMINATOR);
        long offset = e % PROPORTION_DENOMINATOR;
        if (offset < PERSON_PROPORTION) {
            epoch -= 1;
            offset = AUCTION_PROPORTION - 1;
        } else if (offset >= PERSON_PROPORTION + AUCTION_PROPORTION) {
            offset = AUCTION_PROPORTION - 1;
        } else {
            offset -= PERSON_PROPORTION;
        }
        return epoch * AUCTION_PROPORTION + offset;
    }

    private long randPerson(long e, SplitMix64 r) {
        long numPeople = lastPerson(e) + 1;
        long active = Math.min(numPeople, config.numActivePeople);
        return numPeople - active + r.nextInt(active + config.personIdLead);
    }

    private long randAuction(long e, SplitMix64 r) {
        long max = lastAuction(e);
        long min = Math.max(max - config.numInFlightAuctions, 0);
        return min + r.nextInt(max - min + 1 + config.auctionIdLead);
    }

    /**
     * round(10^(U*6) * 100). Math.pow must be V8's: fdlibm's C pow, transcribed in FdlibmPow
     * (StrictMath.pow differs in the last bit for ~4% of these arguments). Math.round rounds half
     * up, as JS does.
     */
    static long price(SplitMix64 r) {
        return Math.round(FdlibmPow.pow(10, r.nextDouble() * 6) * 100);
    }

    static String str(SplitMix64 r, long max, char special) {
        long len = 3 + r.nextInt(max - 3);
        StringBuilder sb = new StringBuilder((int) len);
        while (len-- > 0) sb.append(r.nextInt(13) == 0 ? special : (char) ('a' + r.nextInt(26)));
        // JS String.prototype.trim: only spaces can occur at the ends here ('_' is not trimmed by either).
        return sb.toString().trim();
    }

    static String exactStr(SplitMix64 r, long length) {
        char[] chars = new char[(int) length];
        for (int i = 0; i < length; i++) chars[i] = (char) ('a' + r.nextInt(26));
        return new String(chars);
    }

    static String extra(SplitMix64 r, long cur, long avg) {
        if (cur > avg) return "";
        long d = avg - cur;
        long delta = Math.round(0.2 * d);
        return exactStr(r, d - delta + (delta == 0 ? 0 : r.nextInt(2 * delta)));
    }

    private static String pick(SplitMix64 r, String[] values) {
        return values[(int) r.nextInt(values.length)];
    }

    /** Decimal length of a non-negative integer (String(n).length). */
    static int digits(long n) {
        return Long.toString(n).length();
    }

    private static String baseUrl(SplitMix64 r) {
        String a = str(r, 5, '_');
        String b = str(r, 5, '_');
        String c = str(r, 5, '_');
        return "https://www.nexmark.com/" + a + "/" + b + "/" + c + "/item.htm?query=1";
    }

    private static String pad4(long v) {
        String s = Long.toString(v);
        return "0000".substring(s.length()) + s;
    }

    private Person person(long e, long ts, SplitMix64 r) {
        Person p = new Person();
        p.id = lastPerson(e) + config.firstPersonId;
        String first = pick(r, FIRST_NAMES);
        p.name = first + " " + pick(r, LAST_NAMES);
        String user = str(r, 7, ' ');
        p.emailAddress = user + "@" + str(r, 5, ' ') + ".com";
        StringBuilder cc = new StringBuilder(19);
        for (int i = 0; i < 4; i++) {
            if (i > 0) cc.append(' ');
            cc.append(pad4(r.nextInt(10_000)));
        }
        p.creditCard = cc.toString();
        p.city = pick(r, CITIES);
        p.state = pick(r, STATES);
        p.dateTime = ts;
        long cur = PERSON_JSON_OVERHEAD + digits(p.id) + p.name.length() + p.emailAddress.length() + p.creditCard.length()
                + p.city.length() + p.state.length() + digits(ts);
        p.extra = extra(r, cur, config.avgPersonByteSize);
        return p;
    }

    private Auction auction(long e, long n, long ts, SplitMix64 r) {
        Auction a = new Auction();
        a.id = lastAuction(e) + config.firstAuctionId;
        a.seller = (r.nextInt(config.hotSellersRatio) > 0
                ? Math.floorDiv(lastPerson(e), HOT_BATCH) * HOT_BATCH
                : randPerson(e, r)) + config.firstPersonId;
        a.category = config.firstCategoryId + r.nextInt(config.numCategories);
        a.initialBid = price(r);
        long horizon = eventTimestamp(n + Math.floorDiv(config.numInFlightAuctions * PROPORTION_DENOMINATOR, AUCTION_PROPORTION)) - ts;
        a.expires = ts + 1 + r.nextInt(Math.max(2 * horizon, 1));
        a.itemName = str(r, 20, ' ');
        a.description = str(r, 100, ' ');
        a.reserve = a.initialBid + price(r);
        a.dateTime = ts;
        long cur = AUCTION_JSON_OVERHEAD + digits(a.id) + a.itemName.length() + a.description.length() + digits(a.initialBid)
                + digits(a.reserve) + digits(ts) + digits(a.expires) + digits(a.seller) + digits(a.category);
        a.extra = extra(r, cur, config.avgAuctionByteSize);
        return a;
    }

    private Bid bid(long e, long ts, SplitMix64 r) {
        Bid b = new Bid();
        b.auction = (r.nextInt(config.hotAuctionRatio) > 0
                ? Math.floorDiv(lastAuction(e), HOT_BATCH) * HOT_BATCH
                : randAuction(e, r)) + config.firstAuctionId;
        b.bidder = (r.nextInt(config.hotBiddersRatio) > 0
                ? Math.floorDiv(lastPerson(e), HOT_BATCH) * HOT_BATCH + 1
                : randPerson(e, r)) + config.firstPersonId;
        b.price = price(r);
        if (r.nextInt(config.hotChannelsRatio) > 0) {
            int i = (int) r.nextInt(HOT_CHANNELS.length);
            b.channel = HOT_CHANNELS[i];
            b.url = HOT_URLS[i];
        } else {
            int c = (int) r.nextInt(CHANNELS_NUMBER);
            b.channel = "channel-" + c;
            b.url = CHANNEL_URLS[c];
        }
        b.dateTime = ts;
        long cur = BID_JSON_OVERHEAD + digits(b.auction) + digits(b.bidder) + digits(b.price) + digits(ts);
        b.extra = extra(r, cur, config.avgBidByteSize);
        return b;
    }

    /** The event with id eventId (>= firstEventId): kind by eventId % 50, time by eventId - firstEventId. */
    public Event generateEvent(long eventId) {
        long n = eventId - config.firstEventId;
        long ts = eventTimestamp(n);
        SplitMix64 r = SplitMix64.eventRandom(config.seed, eventId);
        long rem = eventId % PROPORTION_DENOMINATOR;
        if (rem < PERSON_PROPORTION) return Event.of(person(eventId, ts, r));
        if (rem < PERSON_PROPORTION + AUCTION_PROPORTION) return Event.of(auction(eventId, n, ts, r));
        return Event.of(bid(eventId, ts, r));
    }

    /** The event of generator count n (event id firstEventId + n). */
    public Event eventAt(long n) {
        return generateEvent(config.firstEventId + n);
    }
}
