package weir.bench.flink;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.streaming.api.functions.sink.RichSinkFunction;

/**
 * The stats sink (NEXMARK-SPEC section 3): per 10 s bucket of row time, the count and the sum of
 * FNV-1a-64(canonical(row)); the latency of rows arriving inside the steady window (paced runs
 * only): arrival epoch µs - sched(n(latencyTime(row))); completed checkpoints from
 * notifyCheckpointComplete. Everything is kept per subtask and merged into Stats on close, which
 * Flink calls after the final checkpoint has completed and before the job is reported finished.
 * A legacy SinkFunction because Sink V2 writers are not told about completed checkpoints.
 */
@SuppressWarnings("deprecation")
final class StatsSink<T extends Rows.OutRow> extends RichSinkFunction<T> implements CheckpointListener {
    private static final long serialVersionUID = 1L;
    private final Schedule schedule;
    private final boolean print;

    private transient Map<Long, long[]> buckets;
    private transient Histogram latency;
    private transient Canon canon;
    private transient long rows;
    private transient List<String> printed;
    private transient long lastBucket;
    private transient long[] lastCell;

    StatsSink(Schedule schedule, boolean print) {
        this.schedule = schedule;
        this.print = print;
    }

    @Override
    public void open(OpenContext context) {
        buckets = new HashMap<>();
        latency = new Histogram();
        canon = new Canon(print);
        rows = 0;
        printed = new ArrayList<>();
        lastBucket = Long.MIN_VALUE;
        lastCell = null;
    }

    @Override
    public void invoke(T row, Context context) {
        rows++;
        row.canonical(canon.begin());
        long b = schedule.bucket(row.rowTime());
        if (b != lastBucket) { // rows come in time order per subtask mostly: skip the map lookup
            lastCell = buckets.computeIfAbsent(b, x -> new long[2]);
            lastBucket = b;
        }
        lastCell[0]++;
        lastCell[1] += canon.digest();
        if (print) printed.add(canon.text());
        if (schedule.paced()) {
            double now = Clock.nowUs();
            if (now >= schedule.steadyStart() * 1000.0 && now <= schedule.steadyEnd() * 1000.0) {
                latency.record((long) (now - schedule.schedUs(schedule.firstCountAt(row.latencyTime()))));
            }
        }
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) {
        Stats.checkpointCompleted(checkpointId);
    }

    @Override
    public void close() {
        if (buckets != null) Stats.mergeSink(buckets, latency, rows, printed);
        buckets = null;
    }
}
