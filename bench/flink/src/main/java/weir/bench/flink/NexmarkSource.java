package weir.bench.flink;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.ByteArrayInputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.flink.api.connector.source.Boundedness;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.api.connector.source.SourceSplit;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.core.io.SimpleVersionedSerializer;

/**
 * The Nexmark generator as a FLIP-27 source with P splits on parallel event-time timelines
 * (NEXMARK-SPEC section 1): split k of P emits generator counts k, k+P, k+2P, ... in order, and
 * source subtask k always runs split k (the enumerator assigns split k to reader k, nothing else).
 * The split's state is the next count it will emit; restoring continues exactly there, since every
 * event is a pure function of (seed, event id). Declared BOUNDED either way: a count-bounded split
 * ends at its first count >= events, a time-sized one at the end of the steady window
 * (NexmarkReader); the job runs in STREAMING mode regardless.
 */
final class NexmarkSource implements Source<Event, NexmarkSource.Split, List<NexmarkSource.Split>> {
    private static final long serialVersionUID = 1L;

    private final NexmarkGenerator generator;
    private final Schedule schedule;

    NexmarkSource(NexmarkGenerator generator, Schedule schedule) {
        this.generator = generator;
        this.schedule = schedule;
    }

    /** Split k of `splits`; `next` = the next count it emits (k at the start). */
    static final class Split implements SourceSplit {
        final int k;
        final int splits;
        final long next;

        Split(int k, int splits, long next) {
            this.k = k;
            this.splits = splits;
            this.next = next;
        }

        /** `p<P>-<k>`, unlike the old contiguous layout's ids, so an old checkpoint is not reinterpreted. */
        @Override
        public String splitId() {
            return "p" + splits + "-" + k;
        }
    }

    @Override
    public Boundedness getBoundedness() {
        return Boundedness.BOUNDED;
    }

    @Override
    public SourceReader<Event, Split> createReader(SourceReaderContext context) {
        return new NexmarkReader(context, generator, schedule);
    }

    @Override
    public SplitEnumerator<Split, List<Split>> createEnumerator(SplitEnumeratorContext<Split> context) {
        List<Split> all = new ArrayList<>(schedule.splits);
        for (int k = 0; k < schedule.splits; k++) all.add(new Split(k, schedule.splits, k));
        return new Enumerator(context, all);
    }

    @Override
    public SplitEnumerator<Split, List<Split>> restoreEnumerator(SplitEnumeratorContext<Split> context, List<Split> pending) {
        return new Enumerator(context, pending);
    }

    @Override
    public SimpleVersionedSerializer<Split> getSplitSerializer() {
        return new SplitSerializer();
    }

    @Override
    public SimpleVersionedSerializer<List<Split>> getEnumeratorCheckpointSerializer() {
        return new PendingSerializer();
    }

    /** Hands split k to reader subtask k when it registers; then tells it there are no more. */
    static final class Enumerator implements SplitEnumerator<Split, List<Split>> {
        private final SplitEnumeratorContext<Split> context;
        private final Map<Integer, Split> pending = new TreeMap<>();

        Enumerator(SplitEnumeratorContext<Split> context, List<Split> pending) {
            this.context = context;
            for (Split s : pending) this.pending.put(s.k, s);
        }

        @Override
        public void start() {}

        @Override
        public void handleSplitRequest(int subtask, String host) {}

        @Override
        public void addSplitsBack(List<Split> splits, int subtask) {
            for (Split s : splits) pending.put(s.k, s);
        }

        @Override
        public void addReader(int subtask) {
            Split s = pending.remove(subtask);
            if (s != null) context.assignSplit(s, subtask);
            context.signalNoMoreSplits(subtask);
        }

        @Override
        public List<Split> snapshotState(long checkpointId) {
            return new ArrayList<>(pending.values());
        }

        @Override
        public void close() {}
    }

    static final class SplitSerializer implements SimpleVersionedSerializer<Split> {
        @Override
        public int getVersion() {
            return 1;
        }

        @Override
        public byte[] serialize(Split s) throws IOException {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(16);
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeInt(s.k);
            out.writeInt(s.splits);
            out.writeLong(s.next);
            out.flush();
            return bytes.toByteArray();
        }

        @Override
        public Split deserialize(int version, byte[] serialized) throws IOException {
            if (version != 1) throw new IOException("unknown nexmark split version " + version);
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(serialized));
            return new Split(in.readInt(), in.readInt(), in.readLong());
        }
    }

    static final class PendingSerializer implements SimpleVersionedSerializer<List<Split>> {
        private final SplitSerializer split = new SplitSerializer();

        @Override
        public int getVersion() {
            return 1;
        }

        @Override
        public byte[] serialize(List<Split> splits) throws IOException {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeInt(splits.size());
            for (Split s : splits) {
                byte[] b = split.serialize(s);
                out.writeInt(b.length);
                out.write(b);
            }
            out.flush();
            return bytes.toByteArray();
        }

        @Override
        public List<Split> deserialize(int version, byte[] serialized) throws IOException {
            if (version != 1) throw new IOException("unknown nexmark enumerator version " + version);
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(serialized));
            int n = in.readInt();
            List<Split> splits = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                byte[] b = new byte[in.readInt()];
                in.readFully(b);
                splits.add(split.deserialize(1, b));
            }
            return splits;
        }
    }
}
