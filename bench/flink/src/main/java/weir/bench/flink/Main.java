package weir.bench.flink;

import java.io.BufferedWriter;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExecutionOptions;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.contrib.streaming.state.EmbeddedRocksDBStateBackend;
import org.apache.flink.contrib.streaming.state.RocksDBOptions;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.util.EnvironmentInformation;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Weir's Nexmark queries on Apache Flink (local MiniCluster), for the side-by-side benchmark
 * (NEXMARK-SPEC section 5; README.md has every option and default).
 *
 *   run --query q0|q1|q2|q3|q5|q7|q8|qhc --parallelism P --backend hashmap|rocksdb --api datastream|sql
 *       --checkpoint-interval-ms MS --checkpoint-dir DIR [--seed S] [--start-at MS] [--warmup-ms MS]
 *       [--steady-ms MS] [--rate R] [--stats PREFIX] [--events N] ...
 *   dump --events N [--seed S] [--parallelism P] [--event-rate R]
 *   selfcheck
 *   explain --query q5|q7 [--parallelism P]     (the SQL plan)
 */
public final class Main {
    private Main() {}

    public static void main(String[] args) throws Exception {
        // Quiet logging (WARN, to stderr) unless the caller configures log4j2 itself.
        if (System.getProperty("log4j2.configurationFile") == null && System.getProperty("log4j.configurationFile") == null) {
            System.setProperty("log4j2.configurationFile", "weir-nexmark-log4j2.properties");
        }
        if (args.length == 0) Options.usage("no mode given");
        Options o = Options.parse(args);
        switch (args[0]) {
            case "dump":
                dump(o);
                break;
            case "run":
                System.exit(run(o));
                break;
            case "selfcheck":
                System.exit(SelfCheck.run() ? 0 : 1);
                break;
            case "explain":
                explain(o);
                break;
            default:
                Options.usage("unknown mode '" + args[0] + "'");
        }
    }

    /** The events of the P splits, split by split, each line `{"split":k,"count":n,` + the event's JSON fields. */
    private static void dump(Options o) throws Exception {
        long n = o.longValue("events", null);
        int p = (int) o.longValue("parallelism", 1L);
        if (p < 1) Options.usage("--parallelism must be >= 1");
        NexmarkGenerator gen = new NexmarkGenerator(o.generatorConfig());
        BufferedWriter out = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), 1 << 16);
        for (int k = 0; k < p; k++) {
            for (long i = k; i < n; i += p) {
                String event = gen.eventAt(i).toJson();
                out.write("{\"split\":" + k + ",\"count\":" + i + ",");
                out.write(event, 1, event.length() - 1);
                out.write('\n');
            }
        }
        out.flush();
    }

    private static void explain(Options o) {
        String query = o.get("query", "q5");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment((int) o.longValue("parallelism", 1L), new Configuration());
        NexmarkGenerator generator = new NexmarkGenerator(o.generatorConfig());
        Schedule schedule = new Schedule(0, 0, 1, 0, 1, 1, generator.config().baseTime, generator.config().firstEventRate);
        System.out.println(SqlQueries.explain(query, env, source(env, generator, schedule)));
    }

    static DataStream<Event> source(StreamExecutionEnvironment env, NexmarkGenerator generator, Schedule schedule) {
        // 4 s bounded out-of-orderness on the record timestamps the reader sets (= dateTime), per split
        // (one split per source subtask), emitted every 200 ms (Flink's default auto-watermark interval).
        WatermarkStrategy<Event> watermarks = WatermarkStrategy.forBoundedOutOfOrderness(java.time.Duration.ofSeconds(4));
        return env.fromSource(new NexmarkSource(generator, schedule), watermarks, "nexmark", TypeInformation.of(Event.class));
    }

    private static int run(Options o) throws Exception {
        RunOptions r = RunOptions.of(o);
        NexmarkGenerator generator = new NexmarkGenerator(o.generatorConfig());
        Schedule schedule = r.schedule(generator.config());

        // Everything the job or Flink prints goes to stderr; stdout carries only our lines.
        PrintStream stdout = System.out;
        System.setOut(System.err);

        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(r.parallelism, configuration(r));
        env.setParallelism(r.parallelism);
        DataStream<Event> events = source(env, generator, schedule);
        DataStream<? extends Rows.OutRow> output = r.api.equals("sql") ? SqlQueries.build(r.query, env, events) : Queries.build(r.query, events);
        sink(output, schedule, r.print);

        List<double[]> samples = new ArrayList<>();
        long submitted = System.currentTimeMillis();
        JobExecutionResult result;
        try {
            JobClient client = env.executeAsync("nexmark-" + r.query);
            r.submittedAtMs = System.currentTimeMillis();
            if (r.startAtGiven && r.submittedAtMs > schedule.startAt) {
                System.err.println("weir-nexmark-flink: the job was submitted " + (r.submittedAtMs - schedule.startAt)
                        + " ms after --start-at (JVM started " + (schedule.startAt - r.jvmStartMs) + " ms before it)");
            }
            CompletableFuture<JobExecutionResult> done = client.getJobExecutionResult();
            sampleUntil(done, schedule.startAt, samples);
            result = done.get();
        } catch (Exception e) {
            System.err.println("weir-nexmark-flink: the job failed");
            e.printStackTrace();
            return 1;
        }
        samples.add(new double[] {Clock.nowMs(), Stats.emittedSoFar()});

        String json = Stats.toJson(r.query, samples, r.describe(result.getNetRuntime(), System.currentTimeMillis() - submitted));
        if (r.statsPrefix != null) {
            Path file = Path.of(r.statsPrefix + ".flink-" + ProcessHandle.current().pid() + "-" + schedule.startAt + ".json");
            Stats.write(file, json);
            System.err.println("weir-nexmark-flink: stats in " + file);
        }
        StringBuilder sb = new StringBuilder();
        if (r.print) for (String line : Stats.printed()) sb.append(line).append('\n');
        if (r.statsPrefix == null) sb.append(json);
        else sb.append("{\"query\":\"").append(r.query).append("\",\"emitted\":").append(Stats.emittedSoFar())
                .append(",\"outputRows\":").append(Stats.outputRows()).append(",\"wallMs\":").append(result.getNetRuntime()).append("}\n");
        stdout.print(sb);
        stdout.flush();
        if (schedule.boundedByCount() && Stats.emittedSoFar() != r.events) {
            System.err.println("weir-nexmark-flink: the sources emitted " + Stats.emittedSoFar() + " events, expected " + r.events);
            return 1;
        }
        return 0;
    }

    /** Samples [epochMs, events emitted so far] every 100 ms from startAt until the job is done. */
    private static void sampleUntil(CompletableFuture<?> done, long startAt, List<double[]> samples) throws InterruptedException {
        long tick = 0;
        while (!done.isDone()) {
            double due = startAt + tick * 100.0;
            double now = Clock.nowMs();
            if (now < due) {
                long waitMs = (long) Math.ceil(due - now);
                try {
                    done.get(waitMs, java.util.concurrent.TimeUnit.MILLISECONDS);
                } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
                    // not done yet (or failed: reported by the caller's get())
                }
                continue;
            }
            samples.add(new double[] {now, Stats.emittedSoFar()});
            tick = (long) Math.floor((now - startAt) / 100.0) + 1;
        }
    }

    static Configuration configuration(RunOptions r) {
        Configuration conf = new Configuration();
        conf.set(ExecutionOptions.RUNTIME_MODE, RuntimeExecutionMode.STREAMING);
        conf.set(StateBackendOptions.STATE_BACKEND, r.backend);
        conf.set(CheckpointingOptions.INCREMENTAL_CHECKPOINTS, true); // RocksDB; the hashmap backend takes full snapshots
        conf.set(RocksDBOptions.TIMER_SERVICE_FACTORY,
                r.timers.equals("heap") ? EmbeddedRocksDBStateBackend.PriorityQueueStateType.HEAP : EmbeddedRocksDBStateBackend.PriorityQueueStateType.ROCKSDB);
        conf.set(RocksDBOptions.USE_MANAGED_MEMORY, true); // Flink's default: block cache + write buffers within managed memory
        conf.set(TaskManagerOptions.MANAGED_MEMORY_SIZE, MemorySize.ofMebiBytes(r.managedMb));
        conf.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
        conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, Path.of(r.checkpointDir).toAbsolutePath().toUri().toString());
        conf.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, java.time.Duration.ofMillis(r.intervalMs));
        conf.set(CheckpointingOptions.CHECKPOINTING_CONSISTENCY_MODE, CheckpointingMode.EXACTLY_ONCE);
        conf.set(CheckpointingOptions.ENABLE_UNALIGNED, false);
        conf.set(CheckpointingOptions.ENABLE_CHECKPOINTS_AFTER_TASKS_FINISH, true); // final checkpoint (Flink's default)
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        conf.set(PipelineOptions.OBJECT_REUSE, r.objectReuse);
        if (r.bufferTimeoutMs >= 0) conf.set(ExecutionOptions.BUFFER_TIMEOUT, java.time.Duration.ofMillis(r.bufferTimeoutMs));
        conf.set(PipelineOptions.GENERIC_TYPES, false); // every record and state type has a Flink serializer (no Kryo)
        return conf;
    }

    @SuppressWarnings("deprecation")
    private static <T extends Rows.OutRow> void sink(DataStream<T> output, Schedule schedule, boolean print) {
        output.addSink(new StatsSink<T>(schedule, print)).name("stats");
    }

    static String flinkVersion() {
        return EnvironmentInformation.getVersion();
    }
}
