package weir.bench.flink;

/** The options of `run`, validated (NEXMARK-SPEC section 5). */
final class RunOptions {
    String query;
    String api;
    String backend;
    String timers;
    int parallelism;
    long intervalMs;
    String checkpointDir;
    long startAt;
    boolean startAtGiven;
    long warmupMs;
    long steadyMs;
    double rate;
    long events;
    String statsPrefix;
    boolean print;
    boolean objectReuse;
    long managedMb;
    /** execution.buffer-timeout; -1 = Flink's default (100 ms). */
    long bufferTimeoutMs;
    /** Epoch ms: the JVM's start, and when executeAsync returned (the job graph was built and submitted). */
    final long jvmStartMs = java.lang.management.ManagementFactory.getRuntimeMXBean().getStartTime();
    long submittedAtMs;

    /** Steady window length when none is given (count-bounded runs): it never closes. */
    static final long OPEN_ENDED = Long.MAX_VALUE / 4;

    static RunOptions of(Options o) {
        RunOptions r = new RunOptions();
        r.api = o.oneOf("api", "datastream", "datastream", "sql");
        r.query = o.get("query", null);
        if (r.api.equals("sql") ? !SqlQueries.NAMES.contains(r.query) : !Queries.NAMES.contains(r.query)) {
            Options.usage("--query must be one of " + (r.api.equals("sql") ? SqlQueries.NAMES : Queries.NAMES) + " with --api " + r.api);
        }
        r.backend = o.oneOf("backend", "rocksdb", "hashmap", "rocksdb");
        // Flink SQL's window operators on RocksDB with heap timers give wrong results (q5: 1283 rows
        // instead of 15 at 200,000 events) or fail ("Key group .. is not in KeyGroupRange"): the heap
        // timer keeps a reference to a key row that is reused. So SQL keeps Flink's RocksDB default.
        r.timers = o.oneOf("timers", r.api.equals("sql") ? "rocksdb" : "heap", "heap", "rocksdb");
        if (r.api.equals("sql") && r.backend.equals("rocksdb") && r.timers.equals("heap")) {
            Options.usage("--api sql with --backend rocksdb needs --timers rocksdb (heap timers give wrong results there; see README.md)");
        }
        r.parallelism = (int) o.longValue("parallelism", null);
        if (r.parallelism < 1) Options.usage("--parallelism must be >= 1");
        r.intervalMs = o.longValue("checkpoint-interval-ms", null);
        if (r.intervalMs < 10) Options.usage("--checkpoint-interval-ms must be >= 10");
        r.checkpointDir = o.get("checkpoint-dir", null);
        r.startAtGiven = o.has("start-at");
        r.startAt = o.longValue("start-at", System.currentTimeMillis());
        r.warmupMs = o.longValue("warmup-ms", 0L);
        r.events = o.longValue("events", -1L);
        if (o.has("events") && r.events < 0) Options.usage("--events must be >= 0");
        if (!o.has("events") && !o.has("steady-ms")) Options.usage("give --events N (bounded by count) or --steady-ms MS (sized by time)");
        r.steadyMs = o.longValue("steady-ms", OPEN_ENDED);
        if (r.warmupMs < 0 || r.steadyMs < 0) Options.usage("--warmup-ms and --steady-ms must be >= 0");
        r.rate = o.has("rate") ? o.positive("rate") : 0;
        r.statsPrefix = o.has("stats") ? o.get("stats", null) : null;
        r.print = o.has("print-output");
        r.objectReuse = Boolean.parseBoolean(o.get("object-reuse", "true"));
        r.managedMb = o.longValue("managed-memory-mb", 256L);
        if (r.managedMb < 1) Options.usage("--managed-memory-mb must be >= 1");
        r.bufferTimeoutMs = o.longValue("buffer-timeout-ms", -1L);
        if (r.bufferTimeoutMs < -1) Options.usage("--buffer-timeout-ms must be >= 0");
        return r;
    }

    Schedule schedule(NexmarkGenerator.Config c) {
        return new Schedule(startAt, warmupMs, steadyMs, rate, events, parallelism, c.baseTime, c.firstEventRate);
    }

    /** The run's configuration, as a JSON member of the stats (`"flink":{...}`). */
    String describe(long netRuntimeMs, long wallMs) {
        return "\"flink\":{\"version\":\"" + Main.flinkVersion() + "\",\"api\":\"" + api + "\",\"backend\":\"" + backend
                + "\",\"timers\":\"" + timers + "\",\"parallelism\":" + parallelism + ",\"checkpointIntervalMs\":" + intervalMs
                + ",\"maxHeapMiB\":" + Runtime.getRuntime().maxMemory() / (1024 * 1024) + ",\"managedMemoryMiB\":" + managedMb
                + ",\"objectReuse\":" + objectReuse + ",\"bufferTimeoutMs\":" + (bufferTimeoutMs < 0 ? "null" : String.valueOf(bufferTimeoutMs)) + ",\"jvmStartMs\":" + jvmStartMs + ",\"submittedAtMs\":" + submittedAtMs + ",\"jobNetRuntimeMs\":" + netRuntimeMs + ",\"jobWallMs\":" + wallMs + "}";
    }
}
