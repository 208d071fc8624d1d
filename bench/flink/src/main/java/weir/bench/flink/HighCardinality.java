package weir.bench.flink;

import java.time.Duration;
import org.apache.flink.api.common.functions.AggregateFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.functions.windowing.WindowFunction;
import org.apache.flink.streaming.api.windowing.assigners.TumblingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;
import weir.bench.flink.Rows.PairWindow;
import weir.bench.flink.Rows.QhcRow;

/**
 * qhc, the high-cardinality query (NEXMARK-SPEC section 6), as Weir's jobs/nexmark/qhc.ts: bids
 * keyed by the (auction, bidder) pair, a tumbling 10 s event-time window per pair aggregating the
 * highest price and the number of bids, and one row {auction, bidder, maxPrice, bids, windowEnd}
 * per pair and window when it fires. Millions of distinct keys over a run, each a few times, one
 * AggregatingState read and write per bid: the like-for-like pair for Flink RocksDB vs
 * cache-less Weir. The output does not depend on how the splits interleave (nothing is late).
 */
final class HighCardinality {
    private HighCardinality() {}

    static final TypeInformation<PairWindow> PAIR_WINDOW = Types.POJO(PairWindow.class);

    static DataStream<QhcRow> qhc(DataStream<Event> events) {
        return Queries.bids(events)
                .keyBy(e -> Tuple2.of(e.bid.auction, e.bid.bidder), Types.TUPLE(Types.LONG, Types.LONG))
                .window(TumblingEventTimeWindows.of(Duration.ofMillis(Queries.WINDOW_MS)))
                .aggregate(new MaxAndCount(), new PairRow(), PAIR_WINDOW, Types.POJO(QhcRow.class))
                .name("max-per-pair");
    }

    /** Highest price and number of bids; updates the accumulator in place. */
    static final class MaxAndCount implements AggregateFunction<Event, PairWindow, PairWindow> {
        private static final long serialVersionUID = 1L;

        @Override
        public PairWindow createAccumulator() {
            return new PairWindow(Long.MIN_VALUE, 0);
        }

        @Override
        public PairWindow add(Event e, PairWindow acc) {
            if (e.bid.price > acc.max) acc.max = e.bid.price;
            acc.bids += 1;
            return acc;
        }

        @Override
        public PairWindow getResult(PairWindow acc) {
            return acc;
        }

        @Override
        public PairWindow merge(PairWindow a, PairWindow b) {
            throw new UnsupportedOperationException("tumbling windows do not merge");
        }
    }

    /** The pair's row for the window (key and window end added). */
    static final class PairRow implements WindowFunction<PairWindow, QhcRow, Tuple2<Long, Long>, TimeWindow> {
        private static final long serialVersionUID = 1L;

        @Override
        public void apply(Tuple2<Long, Long> pair, TimeWindow window, Iterable<PairWindow> results, Collector<QhcRow> out) {
            for (PairWindow w : results) out.collect(new QhcRow(pair.f0, pair.f1, w.max, w.bids, window.getEnd()));
        }
    }
}
