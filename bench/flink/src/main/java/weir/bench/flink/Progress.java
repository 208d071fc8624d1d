package weir.bench.flink;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * JVM-wide counters shared by all subtasks of the local MiniCluster (user code runs in this JVM,
 * loaded by the application class loader, so the statics are the same ones Main reads).
 * Subtasks add in batches to keep the shared cache line out of the per-record path.
 */
final class Progress {
    private Progress() {}

    static final AtomicLong sourced = new AtomicLong();
    static final AtomicLong output = new AtomicLong();
    static final Queue<String> printed = new ConcurrentLinkedQueue<>();

    private static volatile long mark10 = Long.MAX_VALUE;
    private static volatile long mark90 = Long.MAX_VALUE;
    static final AtomicLong t10 = new AtomicLong();
    static final AtomicLong t90 = new AtomicLong();

    static void reset(long totalEvents) {
        sourced.set(0);
        output.set(0);
        printed.clear();
        t10.set(0);
        t90.set(0);
        mark10 = Math.max(1, (long) Math.ceil(totalEvents * 0.1));
        mark90 = Math.max(1, (long) Math.ceil(totalEvents * 0.9));
    }

    static boolean hasDistinctMarks() {
        return mark90 > mark10;
    }

    /** Adds events that left a source subtask; stamps the time the 10% and 90% marks are passed. */
    static void addSourced(long count) {
        if (count == 0) return;
        long after = sourced.addAndGet(count);
        long before = after - count;
        if (before < mark10 && after >= mark10) t10.compareAndSet(0, System.nanoTime());
        if (before < mark90 && after >= mark90) t90.compareAndSet(0, System.nanoTime());
    }
}
