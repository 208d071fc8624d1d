package weir.bench.flink;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.connector.source.ReaderOutput;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.core.io.InputStatus;

/**
 * Reads one split (NexmarkSource) on the run's absolute schedule (NEXMARK-SPEC section 2):
 * - nothing before startAt (a reader that is ready earlier waits; one that is late starts at once);
 * - with a rate, count n is emitted only when now >= sched(n); a reader that is behind emits at
 *   once, never skips and never re-bases the schedule;
 * - a count-bounded split ends at its first count >= events; a time-sized one when now reaches the
 *   end of the steady window (checked before each batch of at most BATCH events).
 * Waiting is a future completed by a timer thread, so an idle reader uses no CPU and the task
 * keeps processing checkpoint barriers. Records carry their event time (= the event's dateTime) as
 * the record timestamp, which the source's watermark strategy uses.
 */
final class NexmarkReader implements SourceReader<Event, NexmarkSource.Split> {
    private static final int BATCH = 64;
    private static final ScheduledThreadPoolExecutor TIMER = timer();

    private static ScheduledThreadPoolExecutor timer() {
        ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1, r -> {
            Thread th = new Thread(r, "nexmark-source-timer");
            th.setDaemon(true);
            return th;
        });
        t.setRemoveOnCancelPolicy(true);
        return t;
    }

    private final NexmarkGenerator generator;
    private final Schedule schedule;
    private NexmarkSource.Split split;
    private Stats.SplitProgress progress;
    private long next;
    private int stride;
    private long emitted;
    private boolean noMoreSplits;
    private boolean ended;
    private CompletableFuture<Void> available = new CompletableFuture<>();

    NexmarkReader(SourceReaderContext context, NexmarkGenerator generator, Schedule schedule) {
        this.generator = generator;
        this.schedule = schedule;
    }

    @Override
    public void start() {}

    @Override
    public InputStatus pollNext(ReaderOutput<Event> output) {
        if (split == null || ended) return noMoreSplits ? InputStatus.END_OF_INPUT : waitForSignal();
        double now = Clock.nowMs();
        if (now < schedule.startAt) return waitUntil(schedule.startAt);
        if (!schedule.boundedByCount() && now >= schedule.steadyEnd()) return end();
        long n = next;
        int batch = 0;
        try {
            while (batch < BATCH) {
                if (schedule.boundedByCount() && n >= schedule.events) break;
                if (schedule.paced() && schedule.schedMs(n) > now) break;
                output.collect(generator.eventAt(n), generator.eventTimestamp(n));
                n += stride;
                batch++;
            }
        } finally {
            if (batch > 0 && Double.isNaN(progress.firstAtMs)) progress.firstAtMs = now;
            next = n;
            emitted += batch;
            progress.emitted.lazySet(emitted);
            progress.next = n;
        }
        if (schedule.boundedByCount() && n >= schedule.events) return end();
        if (batch == BATCH) return InputStatus.MORE_AVAILABLE;
        // Not yet due: sleep until sched(n), or until the steady window ends, whichever is first.
        double wake = schedule.schedMs(n);
        if (!schedule.boundedByCount()) wake = Math.min(wake, schedule.steadyEnd());
        return waitUntil(wake);
    }

    private InputStatus end() {
        ended = true;
        progress.end = next;
        return noMoreSplits ? InputStatus.END_OF_INPUT : waitForSignal();
    }

    private InputStatus waitForSignal() {
        if (available.isDone()) available = new CompletableFuture<>();
        return InputStatus.NOTHING_AVAILABLE;
    }

    private InputStatus waitUntil(double epochMs) {
        CompletableFuture<Void> f = new CompletableFuture<>();
        available = f;
        long delayUs = (long) Math.ceil((epochMs - Clock.nowMs()) * 1000.0);
        if (delayUs <= 0) f.complete(null);
        else TIMER.schedule(() -> f.complete(null), delayUs, TimeUnit.MICROSECONDS);
        return InputStatus.NOTHING_AVAILABLE;
    }

    @Override
    public List<NexmarkSource.Split> snapshotState(long checkpointId) {
        return split == null ? List.of() : List.of(new NexmarkSource.Split(split.k, split.splits, next));
    }

    @Override
    public CompletableFuture<Void> isAvailable() {
        return available;
    }

    @Override
    public void addSplits(List<NexmarkSource.Split> splits) {
        if (split != null || splits.size() != 1) {
            throw new IllegalStateException("a nexmark reader runs exactly one split, got " + splits.size() + " more");
        }
        split = splits.get(0);
        if (split.splits != schedule.splits) {
            throw new IllegalStateException("split " + split.splitId() + " is of a " + split.splits + "-split layout, this run has " + schedule.splits);
        }
        next = split.next;
        stride = split.splits;
        progress = Stats.split(split.k);
        progress.next = next;
        available.complete(null);
    }

    @Override
    public void notifyNoMoreSplits() {
        noMoreSplits = true;
        available.complete(null);
    }

    @Override
    public void close() {
        if (progress != null && progress.end < 0 && ended) progress.end = next;
    }
}
