package weir.bench.flink;

/**
 * A log-linear latency histogram with 2 significant digits (NEXMARK-SPEC section 3), mergeable by
 * adding counts. A value v >= 0 falls in the bucket whose upper bound is the smallest number with
 * at most two significant digits that is >= v: 0..99 exactly, then 100, 110, ..., 990, 1000, 1100,
 * ... (relative error <= 10 %). Quantiles are bucket upper bounds; max is exact. Negative values
 * are counted as 0. Not thread-safe: one per sink subtask, merged under a lock at the end.
 */
final class Histogram {
    private static final int DECADES = 17; // upper bounds up to 9.9e18
    static final long CAP = 1_000_000_000_000_000_000L;
    private final long[] counts = new long[100 + DECADES * 90];
    private long count;
    private long max;

    void record(long v) {
        if (v < 0) v = 0;
        counts[index(Math.min(v, CAP))]++; // past CAP (31 years in µs) all in one bucket; max stays exact
        count++;
        if (v > max) max = v;
    }

    void merge(Histogram o) {
        for (int i = 0; i < counts.length; i++) counts[i] += o.counts[i];
        count += o.count;
        if (o.max > max) max = o.max;
    }

    long count() {
        return count;
    }

    long max() {
        return max;
    }

    static int index(long v) {
        if (v < 100) return (int) v;
        int k = 0; // v in [10^(k+1), 10^(k+2))
        long p = 1; // 10^k
        while (v / p >= 100) {
            p *= 10;
            k++;
        }
        long m = (v + p - 1) / p; // ceil(v / 10^k), in [10, 100]
        if (m == 100) {
            k++;
            m = 10;
        }
        return 100 + (k - 1) * 90 + (int) (m - 10);
    }

    static long upperBound(int index) {
        if (index < 100) return index;
        int k = (index - 100) / 90 + 1;
        long m = (index - 100) % 90 + 10;
        long p = 1;
        for (int i = 0; i < k; i++) p *= 10;
        return m * p;
    }

    /** The upper bound of the bucket holding the value of rank ceil(q * count) (1-based); 0 when empty. */
    long quantile(double q) {
        if (count == 0) return 0;
        long rank = Math.max(1, (long) Math.ceil(q * count));
        long seen = 0;
        for (int i = 0; i < counts.length; i++) {
            seen += counts[i];
            if (seen >= rank) return Math.min(upperBound(i), max);
        }
        return max;
    }

    /** `{"count":..,"p50":..,"p99":..,"max":..,"histogram":[[upperBoundUs,count],...]}`. */
    void toJson(StringBuilder sb) {
        sb.append("{\"count\":").append(count).append(",\"p50\":").append(quantile(0.5)).append(",\"p99\":").append(quantile(0.99))
                .append(",\"max\":").append(max).append(",\"histogram\":[");
        boolean firstBucket = true;
        for (int i = 0; i < counts.length; i++) {
            if (counts[i] == 0) continue;
            if (!firstBucket) sb.append(',');
            firstBucket = false;
            sb.append('[').append(upperBound(i)).append(',').append(counts[i]).append(']');
        }
        sb.append("]}");
    }
}
