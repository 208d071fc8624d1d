package weir.bench.flink;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Function;

/**
 * `selfcheck`: the stats' pure pieces against known answers. FNV-1a-64 test vectors; canonical
 * rows whose strings were written by hand from NEXMARK-SPEC section 3; every output row type's
 * hand-ordered canonical form against a reflective one (public fields sorted by name) on rows made
 * from generated events; the streaming digest against the digest of the text; the histogram's
 * buckets; n(T) against the generator's event times. Prints one line per failure and a summary.
 */
final class SelfCheck {
    private SelfCheck() {}

    private static int passed;
    private static int failed;

    private static void check(boolean ok, String what) {
        if (ok) passed++;
        else {
            failed++;
            System.out.println("FAILED: " + what);
        }
    }

    private static void equal(Object actual, Object expected, String what) {
        check(expected.equals(actual), what + ": expected " + expected + ", got " + actual);
    }

    static boolean run() {
        equal(Canon.hex16(Canon.fnv1a64("")), "cbf29ce484222325", "fnv1a64(\"\")");
        equal(Canon.hex16(Canon.fnv1a64("a")), "af63dc4c8601ec8c", "fnv1a64(\"a\")");
        equal(Canon.hex16(Canon.fnv1a64("foobar")), "85944171f73967e8", "fnv1a64(\"foobar\")");

        Bid b = new Bid();
        b.auction = 1007;
        b.bidder = 2001;
        b.price = 12345;
        b.dateTime = 1436918400123L;
        b.extra = "ab c";
        b.channel = "Google";
        b.url = "https://www.nexmark.com/x";
        Rows.Q1Row q1 = new Rows.Q1Row(b);
        canonical(new Rows.Q0Row(b), "auction=1007|bidder=2001|dateTime=1436918400123|extra=ab c|price=12345");
        q1.price = 90.8;
        canonical(q1, "auction=1007|bidder=2001|dateTime=1436918400123|extra=ab c|price=x4056b33333333333");
        q1.price = 454.0;
        canonical(q1, "auction=1007|bidder=2001|dateTime=1436918400123|extra=ab c|price=454");
        q1.price = -0.0;
        canonical(q1, "auction=1007|bidder=2001|dateTime=1436918400123|extra=ab c|price=0");
        q1.price = 0.5;
        canonical(q1, "auction=1007|bidder=2001|dateTime=1436918400123|extra=ab c|price=x3fe0000000000000");
        canonical(new Rows.Q2Row(b), "auction=1007|dateTime=1436918400123|price=12345");
        Person p = new Person();
        p.name = "Peter Shultz";
        p.city = "Los Angeles";
        p.state = "CA";
        canonical(new Rows.Q3Row(new Rows.Seller(p), 1002, 1436918400000L),
                "city=Los Angeles|dateTime=1436918400000|id=1002|name=Peter Shultz|state=CA");
        canonical(new Rows.Q5Row(1007, 42, 1436918410000L), "auction=1007|end=1436918410000|num=42");
        canonical(new Rows.Q7Row(b), "auction=1007|bidder=2001|dateTime=1436918400123|extra=ab c|price=12345");
        canonical(new Rows.Q8Row(1000, "Kate Abrams", 1436918400000L), "id=1000|name=Kate Abrams|starttime=1436918400000");
        canonical(new Rows.QhcRow(1007, 2001, 12345, 3, 1436918410000L), "auction=1007|bidder=2001|bids=3|maxPrice=12345|windowEnd=1436918410000");
        b.extra = "";
        canonical(new Rows.Q0Row(b), "auction=1007|bidder=2001|dateTime=1436918400123|extra=|price=12345");

        // Every row type, hand-ordered vs reflective, on rows from generated events.
        NexmarkGenerator gen = new NexmarkGenerator(new NexmarkGenerator.Config());
        for (long n = 0; n < 5000; n++) {
            Event e = gen.eventAt(n);
            if (e.kind == Event.BID) {
                reflective(new Rows.Q0Row(e.bid));
                reflective(new Rows.Q1Row(e.bid));
                reflective(new Rows.Q2Row(e.bid));
                reflective(new Rows.Q7Row(e.bid));
                reflective(new Rows.QhcRow(e.bid.auction, e.bid.bidder, e.bid.price, n, Rows.tumblingEnd(e.bid.dateTime)));
                reflective(new Rows.Q5Row(e.bid.auction, n, Rows.tumblingEnd(e.bid.dateTime)));
            } else if (e.kind == Event.PERSON) {
                reflective(new Rows.Q3Row(new Rows.Seller(e.person), n, e.person.dateTime));
                reflective(new Rows.Q8Row(e.person.id, e.person.name, e.person.dateTime));
            }
        }

        // Histogram: each bucket's upper bound has <= 2 significant digits and is the smallest such >= v.
        long[] values = {0, 1, 99, 100, 101, 109, 110, 111, 999, 1000, 1001, 1234, 9950, 9999, 10000, 123456789, Long.MAX_VALUE / 2, Histogram.CAP};
        long[] bounds = {0, 1, 99, 100, 110, 110, 110, 120, 1000, 1000, 1100, 1300, 10000, 10000, 10000, 130000000, 4700000000000000000L, Histogram.CAP};
        for (int i = 0; i < values.length; i++) {
            equal(Histogram.upperBound(Histogram.index(values[i])), bounds[i], "histogram bucket of " + values[i]);
        }
        for (int i = 0; i <= Histogram.index(Histogram.CAP); i++) equal(Histogram.index(Histogram.upperBound(i)), i, "histogram index round trip " + i);
        Histogram h = new Histogram();
        for (long v = 1; v <= 1000; v++) h.record(v);
        equal(h.quantile(0.5), 500L, "p50 of 1..1000");
        equal(h.quantile(0.99), 990L, "p99 of 1..1000");
        equal(h.max(), 1000L, "max of 1..1000");

        // n(T) is the first count whose event time is >= T.
        for (double rate : new double[] {10_000, 333.3, 7}) {
            NexmarkGenerator.Config c = new NexmarkGenerator.Config();
            c.firstEventRate = rate;
            NexmarkGenerator g = new NexmarkGenerator(c);
            Schedule s = new Schedule(0, 0, 1, 1000, -1, 1, c.baseTime, rate);
            for (long t = c.baseTime; t < c.baseTime + 3000; t += 7) {
                long n = s.firstCountAt(t);
                check(g.eventTimestamp(n) >= t && (n == 0 || g.eventTimestamp(n - 1) < t), "n(" + t + ") = " + n + " at event rate " + rate);
            }
        }

        System.out.println(passed + " passed, " + failed + " failed");
        return failed == 0;
    }

    private static void canonical(Rows.OutRow row, String expected) {
        Canon c = new Canon(true);
        row.canonical(c.begin());
        equal(c.text(), expected, row.getClass().getSimpleName() + " canonical");
        equal(Canon.hex16(c.digest()), Canon.hex16(Canon.fnv1a64(expected)), row.getClass().getSimpleName() + " digest of " + expected);
    }

    private static void reflective(Rows.OutRow row) {
        Canon c = new Canon(true);
        row.canonical(c.begin());
        String expected = reflect(row, "");
        if (!expected.equals(c.text())) equal(c.text(), expected, row.getClass().getSimpleName() + " vs reflective");
        else passed++;
        if (c.digest() != Canon.fnv1a64(expected)) check(false, "digest of " + expected);
    }

    /** Public instance fields sorted by (dotted) name, `name=value` joined with `|`: an independent canonical(row). */
    static String reflect(Object row, String prefix) {
        List<String> parts = new ArrayList<>();
        collect(row, prefix, parts);
        parts.sort(Comparator.comparing((Function<String, String>) s -> s.substring(0, s.indexOf('='))));
        return String.join("|", parts);
    }

    private static void collect(Object row, String prefix, List<String> parts) {
        for (Field f : row.getClass().getFields()) {
            if (Modifier.isStatic(f.getModifiers())) continue;
            Object v;
            try {
                v = f.get(row);
            } catch (IllegalAccessException e) {
                throw new IllegalStateException(e);
            }
            String name = prefix + f.getName();
            if (v instanceof Long || v instanceof Integer) parts.add(name + "=" + v);
            else if (v instanceof Double) parts.add(name + "=" + number((Double) v));
            else if (v instanceof String) parts.add(name + "=" + v);
            else collect(v, name + ".", parts);
        }
    }

    private static String number(double v) {
        if (!Double.isInfinite(v) && !Double.isNaN(v) && v == Math.floor(v)) return new BigDecimal(v).toBigInteger().toString();
        return "x" + String.format("%016x", Double.doubleToRawLongBits(v));
    }
}
