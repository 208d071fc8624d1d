package weir.bench.flink;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The run's stats (NEXMARK-SPEC section 3), gathered JVM-wide: the local MiniCluster runs every
 * subtask in this JVM, with user classes from the application class loader, so these statics are
 * the ones Main reads after the job has ended. Sources publish per-split progress as they go (the
 * sampler reads it every 100 ms); sink subtasks merge their buckets and histogram when they close;
 * checkpoint completions are recorded as they are notified, first notification per id wins.
 */
final class Stats {
    private Stats() {}

    /** One split's progress, written by its reader only. */
    static final class SplitProgress {
        final int k;
        /** Events emitted so far (published with a release store after each batch). */
        final AtomicLong emitted = new AtomicLong();
        /** Epoch ms of the first event emitted; NaN before. */
        volatile double firstAtMs = Double.NaN;
        /** The first count the split did not emit, once it has ended; -1 before. */
        volatile long end = -1;
        /** The next count while running (for splitsEnd if the split never ended, e.g. a failed job). */
        volatile long next;

        SplitProgress(int k) {
            this.k = k;
            this.next = k;
        }
    }

    private static final Map<Integer, SplitProgress> SPLITS = new ConcurrentHashMap<>();
    private static final Map<Long, Double> CHECKPOINTS = new ConcurrentHashMap<>();
    private static final Map<Long, long[]> BUCKETS = new TreeMap<>();
    private static final Histogram LATENCY = new Histogram();
    private static long outputRows;
    private static final List<String> PRINTED = new ArrayList<>();

    static SplitProgress split(int k) {
        return SPLITS.computeIfAbsent(k, SplitProgress::new);
    }

    static long emittedSoFar() {
        long sum = 0;
        for (SplitProgress p : SPLITS.values()) sum += p.emitted.get();
        return sum;
    }

    static void checkpointCompleted(long id) {
        CHECKPOINTS.putIfAbsent(id, Clock.nowMs());
    }

    /** A sink subtask's totals; `printed` holds canonical rows (only with --print-output). */
    static synchronized void mergeSink(Map<Long, long[]> buckets, Histogram latency, long rows, List<String> printed) {
        for (Map.Entry<Long, long[]> e : buckets.entrySet()) {
            long[] cell = BUCKETS.computeIfAbsent(e.getKey(), b -> new long[2]);
            cell[0] += e.getValue()[0];
            cell[1] += e.getValue()[1]; // sum mod 2^64
        }
        LATENCY.merge(latency);
        outputRows += rows;
        PRINTED.addAll(printed);
    }

    static synchronized long outputRows() {
        return outputRows;
    }

    static synchronized List<String> printed() {
        return new ArrayList<>(PRINTED);
    }

    /** The stats JSON; `samples` are [epochMs, emittedSoFar] pairs; `extra` is a JSON object body or "". */
    static synchronized String toJson(String query, List<double[]> samples, String extra) {
        StringBuilder sb = new StringBuilder(1 << 16);
        sb.append("{\"system\":\"flink\",\"query\":");
        Json.string(sb, query);
        double first = Double.NaN;
        for (SplitProgress p : SPLITS.values()) if (!Double.isNaN(p.firstAtMs) && !(p.firstAtMs >= first)) first = p.firstAtMs;
        sb.append(",\"firstEventAtMs\":").append(Double.isNaN(first) ? "null" : ms(first));
        sb.append(",\"samples\":[");
        for (int i = 0; i < samples.size(); i++) {
            if (i > 0) sb.append(',');
            sb.append('[').append(ms(samples.get(i)[0])).append(',').append((long) samples.get(i)[1]).append(']');
        }
        sb.append("],\"splitsEnd\":{");
        boolean firstSplit = true;
        for (SplitProgress p : new TreeMap<>(SPLITS).values()) {
            if (!firstSplit) sb.append(',');
            firstSplit = false;
            sb.append('"').append(p.k).append("\":").append(p.end >= 0 ? p.end : p.next);
        }
        sb.append("},\"buckets\":{");
        boolean firstBucket = true;
        for (Map.Entry<Long, long[]> e : BUCKETS.entrySet()) {
            if (!firstBucket) sb.append(',');
            firstBucket = false;
            sb.append('"').append(e.getKey()).append("\":{\"count\":").append(e.getValue()[0]).append(",\"digest\":\"")
                    .append(Canon.hex16(e.getValue()[1])).append("\"}");
        }
        sb.append("},\"latencyUs\":");
        LATENCY.toJson(sb);
        sb.append(",\"checkpoints\":[");
        boolean firstCk = true;
        for (Map.Entry<Long, Double> e : new TreeMap<>(CHECKPOINTS).entrySet()) {
            if (!firstCk) sb.append(',');
            firstCk = false;
            sb.append("{\"id\":").append(e.getKey()).append(",\"completedAtMs\":").append(ms(e.getValue())).append('}');
        }
        sb.append("],\"outputRows\":").append(outputRows);
        if (!extra.isEmpty()) sb.append(',').append(extra);
        return sb.append("}\n").toString();
    }

    /** Epoch ms with 0.1 ms resolution. */
    private static String ms(double v) {
        return String.format(java.util.Locale.ROOT, "%.1f", v);
    }

    static void write(Path file, String json) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        if (dir != null) Files.createDirectories(dir);
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.write(tmp, json.getBytes(StandardCharsets.UTF_8));
        Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }
}
