package weir.bench.flink;

import java.io.Serializable;

/**
 * The run's absolute schedule (NEXMARK-SPEC section 2) and the event-time arithmetic of the
 * stats (section 3). Immutable and serializable: the same object is shipped to every subtask.
 *
 *   sched(n) = startAt + n * 1000 / rate   (ms; only with a rate)
 *   steady window = [startAt + warmupMs, startAt + warmupMs + steadyMs]
 *   n(T) = ceil((T - baseTime) * eventRate / 1000): the first count whose event time is >= T
 */
final class Schedule implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Epoch ms at which the sources begin to emit. */
    final long startAt;
    final long warmupMs;
    /** Long.MAX_VALUE / 4 when not given (bounded `--events` runs: the window never closes). */
    final long steadyMs;
    /** Events/s of wall-clock time for all splits together; 0 = as fast as possible. */
    final double rate;
    /** Counts < events (bounded by count); -1 = sized by time (the sources end at the steady window's end). */
    final long events;
    final int splits;
    final long baseTime;
    final double eventRate;

    Schedule(long startAt, long warmupMs, long steadyMs, double rate, long events, int splits, long baseTime, double eventRate) {
        this.startAt = startAt;
        this.warmupMs = warmupMs;
        this.steadyMs = steadyMs;
        this.rate = rate;
        this.events = events;
        this.splits = splits;
        this.baseTime = baseTime;
        this.eventRate = eventRate;
    }

    boolean paced() {
        return rate > 0;
    }

    boolean boundedByCount() {
        return events >= 0;
    }

    long steadyStart() {
        return startAt + warmupMs;
    }

    long steadyEnd() {
        return startAt + warmupMs + steadyMs;
    }

    /** Scheduled emission time of count n, epoch µs (as a double: exact to well below 1 µs here). */
    double schedUs(long n) {
        return startAt * 1000.0 + n * 1e6 / rate;
    }

    /** Scheduled emission time of count n, epoch ms. */
    double schedMs(long n) {
        return startAt + n * 1000.0 / rate;
    }

    /** The first count whose event time is >= t (t in ms of event time). */
    long firstCountAt(long t) {
        return (long) Math.ceil((t - baseTime) * eventRate / 1000.0);
    }

    /** The 10 s output bucket of a row time. */
    long bucket(long rowTime) {
        return Math.floorDiv(rowTime - baseTime, 10_000L);
    }
}
