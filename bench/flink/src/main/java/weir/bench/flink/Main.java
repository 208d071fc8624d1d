package weir.bench.flink;

import java.io.BufferedWriter;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.eventtime.SerializableTimestampAssigner;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.contrib.streaming.state.EmbeddedRocksDBStateBackend;
import org.apache.flink.contrib.streaming.state.RocksDBOptions;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Weir's Nexmark queries on Apache Flink, for side-by-side benchmarks.
 *
 *   dump --events N [--seed S] [--event-rate R]
 *       the first N events, one JSON object per line, as Weir's JSON.stringify(generateEvent(n, config))
 *   run --query qX --events N --parallelism P --checkpoint-interval-ms MS --checkpoint-dir DIR
 *       [--seed S] [--event-rate R] [--print-output]
 *       [--timers heap|rocksdb] [--final-checkpoint false|true] [--object-reuse true|false] [--managed-memory-mb MB]
 *       runs the query on a local MiniCluster; prints (with --print-output) the output records as
 *       JSON lines, then one summary line (JSON). See README.md for the defaults and why.
 */
public final class Main {
    private Main() {}

    public static void main(String[] args) throws Exception {
        // Quiet logging (WARN, to stderr) unless the caller configures log4j2 itself.
        if (System.getProperty("log4j2.configurationFile") == null && System.getProperty("log4j.configurationFile") == null) {
            System.setProperty("log4j2.configurationFile", "weir-nexmark-log4j2.properties");
        }
        if (args.length == 0) usage("no mode given");
        Map<String, String> options = parse(args);
        switch (args[0]) {
            case "dump":
                dump(options);
                break;
            case "run":
                run(options);
                break;
            default:
                usage("unknown mode '" + args[0] + "'");
        }
    }

    private static final Set<String> FLAGS = Set.of("print-output");

    private static Map<String, String> parse(String[] args) {
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
        return options;
    }

    private static void usage(String problem) {
        System.err.println("weir-nexmark-flink: " + problem);
        System.err.println("usage: dump --events N [--seed S] [--event-rate R]");
        System.err.println("       run --query q0|q1|q2|q3|q5|q7|q8 --events N --parallelism P --checkpoint-interval-ms MS");
        System.err.println("           --checkpoint-dir DIR [--seed S] [--event-rate R] [--print-output]");
        System.err.println("           [--timers heap|rocksdb] [--final-checkpoint false|true] [--object-reuse true|false]");
        System.err.println("           [--managed-memory-mb MB]");
        System.exit(2);
    }

    private static long longOption(Map<String, String> o, String name, Long fallback) {
        String v = o.get(name);
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

    private static NexmarkGenerator.Config config(Map<String, String> o) {
        NexmarkGenerator.Config c = new NexmarkGenerator.Config();
        c.seed = longOption(o, "seed", 0L);
        if (o.containsKey("event-rate")) {
            double rate = Double.parseDouble(o.get("event-rate"));
            if (!(rate > 0) || Double.isInfinite(rate)) usage("--event-rate must be a positive number");
            c.firstEventRate = rate;
        }
        return c;
    }

    private static void dump(Map<String, String> o) throws Exception {
        long n = longOption(o, "events", null);
        NexmarkGenerator gen = new NexmarkGenerator(config(o));
        BufferedWriter out = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), 1 << 16);
        for (long i = 0; i < n; i++) {
            out.write(gen.eventAt(i).toJson());
            out.write('\n');
        }
        out.flush();
    }

    /** Generator count -> event, chained to the source; counts the events leaving the source. */
    static final class Generate extends RichMapFunction<Long, Event> {
        private static final long serialVersionUID = 1L;
        private static final int BATCH = 1024;
        private final NexmarkGenerator generator;
        private transient long pending;

        Generate(NexmarkGenerator generator) {
            this.generator = generator;
        }

        @Override
        public void open(OpenContext context) {
            pending = 0;
        }

        @Override
        public Event map(Long n) {
            Event e = generator.eventAt(n);
            if (++pending == BATCH) {
                Progress.addSourced(pending);
                pending = 0;
            }
            return e;
        }

        @Override
        public void close() {
            Progress.addSourced(pending);
            pending = 0;
        }
    }

    private static void run(Map<String, String> o) throws Exception {
        String query = o.getOrDefault("query", "");
        if (!Queries.NAMES.contains(query)) usage("--query must be one of " + Queries.NAMES);
        long events = longOption(o, "events", null);
        if (events < 1) usage("--events must be >= 1");
        int parallelism = (int) longOption(o, "parallelism", null);
        if (parallelism < 1) usage("--parallelism must be >= 1");
        long interval = longOption(o, "checkpoint-interval-ms", null);
        if (interval < 10) usage("--checkpoint-interval-ms must be >= 10");
        String dir = o.get("checkpoint-dir");
        if (dir == null) usage("--checkpoint-dir is required");
        boolean print = o.containsKey("print-output");
        boolean objectReuse = Boolean.parseBoolean(o.getOrDefault("object-reuse", "true"));
        boolean finalCheckpoint = Boolean.parseBoolean(o.getOrDefault("final-checkpoint", "false"));
        String timers = o.getOrDefault("timers", "heap");
        if (!timers.equals("rocksdb") && !timers.equals("heap")) usage("--timers must be rocksdb or heap");
        long managedMb = longOption(o, "managed-memory-mb", 0L);
        NexmarkGenerator generator = new NexmarkGenerator(config(o));

        // Everything the job or Flink prints goes to stderr; stdout carries only our lines.
        PrintStream stdout = System.out;
        System.setOut(System.err);

        Configuration conf = new Configuration();
        conf.set(StateBackendOptions.STATE_BACKEND, "rocksdb");
        conf.set(CheckpointingOptions.INCREMENTAL_CHECKPOINTS, true);
        conf.set(RocksDBOptions.TIMER_SERVICE_FACTORY,
                timers.equals("heap") ? EmbeddedRocksDBStateBackend.PriorityQueueStateType.HEAP : EmbeddedRocksDBStateBackend.PriorityQueueStateType.ROCKSDB);
        if (managedMb > 0) conf.set(TaskManagerOptions.MANAGED_MEMORY_SIZE, MemorySize.ofMebiBytes(managedMb));
        conf.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
        conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, Path.of(dir).toAbsolutePath().toUri().toString());
        conf.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, Duration.ofMillis(interval));
        conf.set(CheckpointingOptions.CHECKPOINTING_CONSISTENCY_MODE, CheckpointingMode.EXACTLY_ONCE);
        conf.set(CheckpointingOptions.ENABLE_CHECKPOINTS_AFTER_TASKS_FINISH, finalCheckpoint);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        conf.set(PipelineOptions.OBJECT_REUSE, objectReuse);
        conf.set(PipelineOptions.GENERIC_TYPES, false); // every record and state type has a Flink serializer (no Kryo)

        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(parallelism, conf);
        env.setParallelism(parallelism);

        WatermarkStrategy<Long> watermarks = WatermarkStrategy.<Long>forBoundedOutOfOrderness(Duration.ofSeconds(4))
                .withTimestampAssigner((SerializableTimestampAssigner<Long>) (n, previous) -> generator.eventTimestamp(n));
        // The timestamp of count n is exactly the dateTime of the event it becomes.
        DataStream<Event> source = env.fromSource(new SequenceSource(events), watermarks, "nexmark")
                .map(new Generate(generator)).name("generate");
        DataStream<? extends Rows.JsonRow> output = Queries.build(query, source);
        sink(output, print);

        Progress.reset(events);
        long wallMs;
        try {
            JobClient client = env.executeAsync("nexmark-" + query);
            JobExecutionResult result = client.getJobExecutionResult().get();
            wallMs = result.getNetRuntime(); // from job submission (INITIALIZING) to its end, as the JobMaster saw it
        } catch (Exception e) {
            System.err.println("weir-nexmark-flink: the job failed");
            e.printStackTrace();
            System.exit(1);
            return;
        }

        long t10 = Progress.t10.get();
        long t90 = Progress.t90.get();
        double totalEps = events / (Math.max(wallMs, 1) / 1000.0);
        // Between the 10% and 90% marks; for inputs too small to have two distinct marks, the total rate.
        double steadyEps = Progress.hasDistinctMarks() && t10 != 0 && t90 > t10 ? 0.8 * events / ((t90 - t10) / 1e9) : totalEps;

        StringBuilder sb = new StringBuilder(1 << 16);
        if (print) for (String line : Progress.printed) sb.append(line).append('\n');
        sb.append("{\"query\":");
        Json.string(sb, query);
        sb.append(",\"events\":").append(events)
                .append(",\"parallelism\":").append(parallelism)
                .append(",\"wallMs\":").append(wallMs)
                .append(",\"steadyEps\":").append(Math.round(steadyEps))
                .append(",\"totalEps\":").append(Math.round(totalEps))
                .append(",\"outputRecords\":").append(Progress.output.get())
                .append("}\n");
        stdout.print(sb);
        stdout.flush();
        if (Progress.sourced.get() != events) {
            System.err.println("weir-nexmark-flink: the source emitted " + Progress.sourced.get() + " events, expected " + events);
            System.exit(1);
        }
        System.exit(0);
    }

    private static <T extends Rows.JsonRow> void sink(DataStream<T> output, boolean print) {
        output.sinkTo(new CountingSink<T>(print)).name("out");
    }
}
