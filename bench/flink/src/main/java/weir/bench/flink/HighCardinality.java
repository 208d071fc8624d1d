package weir.bench.flink;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import weir.bench.flink.Rows.QhcRow;

/**
 * qhc, the high-cardinality query (NEXMARK-SPEC section 6): bids keyed by the (auction, bidder)
 * pair, a ValueState<Long> running max price per pair; a bid is emitted as
 * {auction, bidder, price, dateTime} when it raises its pair's max (the pair's first bid does).
 * Millions of distinct keys and few repeats: the like-for-like pair for Flink RocksDB vs cache-less Weir.
 */
final class HighCardinality {
    private HighCardinality() {}

    static DataStream<QhcRow> qhc(DataStream<Event> events) {
        return Queries.bids(events)
                .keyBy(e -> Tuple2.of(e.bid.auction, e.bid.bidder), Types.TUPLE(Types.LONG, Types.LONG))
                .process(new RunningMax()).returns(QhcRow.class).name("max-per-pair");
    }

    static final class RunningMax extends KeyedProcessFunction<Tuple2<Long, Long>, Event, QhcRow> {
        private static final long serialVersionUID = 1L;
        private transient ValueState<Long> max;

        @Override
        public void open(OpenContext context) {
            max = getRuntimeContext().getState(new ValueStateDescriptor<>("max", Types.LONG));
        }

        @Override
        public void processElement(Event e, Context ctx, Collector<QhcRow> out) throws Exception {
            Long current = max.value();
            if (current == null || e.bid.price > current) {
                max.update(e.bid.price);
                out.collect(new QhcRow(e.bid));
            }
        }
    }
}
