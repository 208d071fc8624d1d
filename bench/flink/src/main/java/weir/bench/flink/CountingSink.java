package weir.bench.flink;

import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;

/** A discarding sink that counts its records (and, with print on, keeps them as JSON lines). */
final class CountingSink<T extends Rows.JsonRow> implements Sink<T> {
    private static final long serialVersionUID = 1L;
    private final boolean print;

    CountingSink(boolean print) {
        this.print = print;
    }

    @Override
    @SuppressWarnings("deprecation")
    public SinkWriter<T> createWriter(InitContext context) {
        return new Writer<>(print);
    }

    private static final class Writer<T extends Rows.JsonRow> implements SinkWriter<T> {
        private final boolean print;
        private long count;

        Writer(boolean print) {
            this.print = print;
        }

        @Override
        public void write(T element, Context context) {
            count++;
            if (print) Progress.printed.add(element.toJson());
        }

        @Override
        public void flush(boolean endOfInput) {}

        @Override
        public void close() {
            Progress.output.addAndGet(count);
            count = 0;
        }
    }
}
