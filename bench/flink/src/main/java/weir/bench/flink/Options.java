package weir.bench.flink;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/** `--name value` / `--name=value` options of a mode; usage errors exit with code 2. */
final class Options {
    private static final Set<String> FLAGS = Set.of("print-output");
    private final Map<String, String> values;

    private Options(Map<String, String> values) {
        this.values = values;
    }

    static Options parse(String[] args) {
        Map<String, String> options = new HashMap<>();
        for (int i = 1; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--")) usage("unexpected argument '" + a + "'");
            String name = a.substring(2);
            int eq = name.indexOf('=');
            if (eq >= 0) {
                options.put(name.substring(0, eq), name.substring(eq + 1));
            } else if (FLAGS.contains(name)) {
                options.put(name, "true");
            } else {
                if (i + 1 >= args.length) usage("--" + name + " needs a value");
                options.put(name, args[++i]);
            }
        }
        return new Options(options);
    }

    static void usage(String problem) {
        System.err.println("weir-nexmark-flink: " + problem);
        System.err.println("usage: run --query q0|q1|q2|q3|q5|q7|q8|qhc --parallelism P --checkpoint-interval-ms MS --checkpoint-dir DIR");
        System.err.println("           [--backend hashmap|rocksdb] [--api datastream|sql] [--seed S] [--event-rate R]");
        System.err.println("           [--start-at EPOCH_MS] [--warmup-ms MS] [--steady-ms MS] [--rate EVENTS_PER_S] [--events N]");
        System.err.println("           [--stats PREFIX] [--print-output] [--timers heap|rocksdb] [--object-reuse true|false]");
        System.err.println("           [--managed-memory-mb MB] [--buffer-timeout-ms MS]");
        System.err.println("       dump --events N [--seed S] [--parallelism P] [--event-rate R]");
        System.err.println("       selfcheck");
        System.err.println("       explain --query q5|q7 [--parallelism P]");
        System.exit(2);
    }

    boolean has(String name) {
        return values.containsKey(name);
    }

    String get(String name, String fallback) {
        String v = values.get(name);
        if (v == null && fallback == null) usage("--" + name + " is required");
        return v == null ? fallback : v;
    }

    long longValue(String name, Long fallback) {
        String v = values.get(name);
        if (v == null) {
            if (fallback == null) usage("--" + name + " is required");
            return fallback;
        }
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            try {
                return Long.parseUnsignedLong(v); // a 64-bit seed may be given unsigned
            } catch (NumberFormatException e2) {
                usage("--" + name + " must be an integer, got '" + v + "'");
                return 0;
            }
        }
    }

    double positive(String name) {
        String v = values.get(name);
        double x = 0;
        try {
            x = Double.parseDouble(v);
        } catch (NumberFormatException | NullPointerException e) {
            usage("--" + name + " must be a number, got '" + v + "'");
        }
        if (!(x > 0) || Double.isInfinite(x)) usage("--" + name + " must be a positive number, got '" + v + "'");
        return x;
    }

    String oneOf(String name, String fallback, String... allowed) {
        String v = get(name, fallback);
        for (String a : allowed) if (a.equals(v)) return v;
        usage("--" + name + " must be one of " + String.join("|", allowed) + ", got '" + v + "'");
        return v;
    }

    NexmarkGenerator.Config generatorConfig() {
        NexmarkGenerator.Config c = new NexmarkGenerator.Config();
        c.seed = longValue("seed", 0L);
        if (has("event-rate")) c.firstEventRate = positive("event-rate");
        return c;
    }
}
