package weir.bench.flink;

/**
 * SplitMix64 exactly as Weir's connectors/nexmark/splitmix64.ts (and java.util.SplittableRandom
 * created with a seed): state += GOLDEN_GAMMA, output = mix64(state). nextDouble is the top 53
 * bits times 2^-53; nextInt(n) is (long) (nextDouble() * n) — one draw, no rejection (this is NOT
 * SplittableRandom.nextInt(bound)).
 */
public final class SplitMix64 {
    static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;
    private static final double DOUBLE_UNIT = 0x1.0p-53;

    private long state;

    public SplitMix64(long seed) {
        this.state = seed;
    }

    static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    public long nextLong() {
        return mix64(state += GOLDEN_GAMMA);
    }

    public double nextDouble() {
        return (nextLong() >>> 11) * DOUBLE_UNIT;
    }

    /** floor(nextDouble() * bound) for a positive bound (JS: Math.floor(r.nextDouble() * bound)). */
    public long nextInt(long bound) {
        return (long) (nextDouble() * (double) bound);
    }

    /** The stream of one event: state seed ^ mix64(id + GOLDEN_GAMMA) (= seed ^ new SplitMix64(id).nextLong()). */
    public static SplitMix64 eventRandom(long seed, long id) {
        return new SplitMix64(seed ^ mix64(id + GOLDEN_GAMMA));
    }
}
