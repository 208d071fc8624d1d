package weir.bench.flink;

/**
 * Epoch time with sub-millisecond resolution and monotonic steps: the epoch is read once per JVM,
 * then advanced by System.nanoTime (cheap, and never jumps back if the wall clock is adjusted).
 */
final class Clock {
    private Clock() {}

    private static final long NANO0 = System.nanoTime();
    private static final double EPOCH_US0 = epochMicrosNow();

    private static double epochMicrosNow() {
        java.time.Instant i = java.time.Instant.now();
        return i.getEpochSecond() * 1e6 + i.getNano() / 1e3;
    }

    /** Epoch µs now. */
    static double nowUs() {
        return EPOCH_US0 + (System.nanoTime() - NANO0) / 1e3;
    }

    /** Epoch ms now (fractional). */
    static double nowMs() {
        return nowUs() / 1e3;
    }
}
