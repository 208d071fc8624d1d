package weir.bench.flink;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.api.common.functions.AggregateFunction;
import org.apache.flink.api.common.functions.CoGroupFunction;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.streaming.api.functions.windowing.WindowFunction;
import org.apache.flink.streaming.api.windowing.assigners.SlidingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.assigners.TumblingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;
import weir.bench.flink.Rows.Q0Row;
import weir.bench.flink.Rows.Q1Row;
import weir.bench.flink.Rows.Q2Row;
import weir.bench.flink.Rows.Q3Row;
import weir.bench.flink.Rows.Q5Row;
import weir.bench.flink.Rows.AuctionRef;
import weir.bench.flink.Rows.Q7Row;
import weir.bench.flink.Rows.Q8Row;
import weir.bench.flink.Rows.Seller;
import weir.bench.flink.Rows.Top;
import weir.bench.flink.Rows.WindowCount;
import weir.bench.flink.Rows.WindowTop;

/**
 * The plans of Weir's jobs/nexmark/q{0,1,2,3,5,7,8}.ts in Flink's DataStream API: same stages,
 * keys, windows, per-key state and outputs. Each takes the event stream (timestamps = dateTime,
 * watermarks from the source) and returns the output stream.
 */
final class Queries {
    private Queries() {}

    static final long WINDOW_MS = 10_000;

    static final List<String> NAMES = List.of("q0", "q1", "q2", "q3", "q5", "q7", "q8", "qhc");

    static DataStream<? extends Rows.OutRow> build(String query, DataStream<Event> events) {
        switch (query) {
            case "q0": return q0(events);
            case "q1": return q1(events);
            case "q2": return q2(events);
            case "q3": return q3(events);
            case "q5": return q5(events);
            case "q7": return q7(events);
            case "q8": return q8(events);
            case "qhc": return HighCardinality.qhc(events);
            default: throw new IllegalArgumentException("unknown query '" + query + "' (one of " + NAMES + ")");
        }
    }

    static DataStream<Event> bids(DataStream<Event> events) {
        return events.filter(e -> e.kind == Event.BID).name("bids");
    }

    /** q0 pass-through: every bid as (auction, bidder, price, dateTime, extra). */
    static DataStream<Q0Row> q0(DataStream<Event> events) {
        return bids(events).map(e -> new Q0Row(e.bid)).returns(Q0Row.class).name("project");
    }

    /** q1 currency conversion: as q0 with price * 0.908. */
    static DataStream<Q1Row> q1(DataStream<Event> events) {
        return bids(events).map(e -> new Q1Row(e.bid)).returns(Q1Row.class).name("convert");
    }

    /** q2 selection: (auction, price, ⊕dateTime) of bids with auction % 123 == 0. */
    static DataStream<Q2Row> q2(DataStream<Event> events) {
        return events.filter(e -> e.kind == Event.BID && e.bid.auction % 123 == 0).name("select")
                .map(e -> new Q2Row(e.bid)).returns(Q2Row.class).name("project");
    }

    private static final Set<String> Q3_STATES = Set.of("OR", "ID", "CA");

    /** q3: local persons connect category-10 auctions, keyed by person id / seller. */
    static DataStream<Q3Row> q3(DataStream<Event> events) {
        DataStream<Event> persons = events.filter(e -> e.kind == Event.PERSON && Q3_STATES.contains(e.person.state)).name("local-persons");
        DataStream<Event> auctions = events.filter(e -> e.kind == Event.AUCTION && e.auction.category == 10).name("category-10");
        return persons.connect(auctions)
                .keyBy(e -> e.person.id, e -> e.auction.seller, Types.LONG)
                .process(new Q3Join()).name("join");
    }

    static final class Q3Join extends KeyedCoProcessFunction<Long, Event, Event, Q3Row> {
        private static final long serialVersionUID = 1L;
        private transient ValueState<Seller> seller;
        private transient ListState<AuctionRef> waiting;

        @Override
        public void open(Configuration parameters) {
            seller = getRuntimeContext().getState(new ValueStateDescriptor<>("seller", Types.POJO(Seller.class)));
            waiting = getRuntimeContext().getListState(new ListStateDescriptor<>("waiting", Types.POJO(AuctionRef.class)));
        }

        @Override
        public void processElement1(Event e, Context ctx, Collector<Q3Row> out) throws Exception {
            Seller s = new Seller(e.person);
            seller.update(s);
            Iterable<AuctionRef> refs = waiting.get();
            if (refs != null) for (AuctionRef a : refs) out.collect(new Q3Row(s, a.id, a.dateTime));
            waiting.clear();
        }

        @Override
        public void processElement2(Event e, Context ctx, Collector<Q3Row> out) throws Exception {
            Seller s = seller.value();
            if (s == null) waiting.add(new AuctionRef(e.auction));
            else out.collect(new Q3Row(s, e.auction.id, e.auction.dateTime));
        }
    }

    /** q5: bids per auction per sliding 10 s / 2 s window, then per window (keyed by end) the auctions at the max. */
    static DataStream<Q5Row> q5(DataStream<Event> events) {
        return bids(events)
                .keyBy(e -> e.bid.auction, Types.LONG)
                .window(SlidingEventTimeWindows.of(Duration.ofMillis(WINDOW_MS), Duration.ofSeconds(2)))
                .aggregate(new Count(), new WithWindowEnd()).name("count-per-auction")
                .keyBy(c -> c.end, Types.LONG)
                .process(new Q5Max()).name("max-per-window");
    }

    static final class Count implements AggregateFunction<Event, Long, Long> {
        private static final long serialVersionUID = 1L;

        @Override
        public Long createAccumulator() {
            return 0L;
        }

        @Override
        public Long add(Event value, Long n) {
            return n + 1;
        }

        @Override
        public Long getResult(Long n) {
            return n;
        }

        @Override
        public Long merge(Long a, Long b) {
            return a + b;
        }
    }

    static final class WithWindowEnd implements WindowFunction<Long, WindowCount, Long, TimeWindow> {
        private static final long serialVersionUID = 1L;

        @Override
        public void apply(Long auction, TimeWindow window, Iterable<Long> counts, Collector<WindowCount> out) {
            for (Long num : counts) out.collect(new WindowCount(auction, num, window.getEnd()));
        }
    }

    static final class Q5Max extends KeyedProcessFunction<Long, WindowCount, Q5Row> {
        private static final long serialVersionUID = 1L;
        private transient ValueState<Long> max;
        private transient ListState<Long> hot;

        @Override
        public void open(Configuration parameters) {
            max = getRuntimeContext().getState(new ValueStateDescriptor<>("max", Types.LONG));
            hot = getRuntimeContext().getListState(new ListStateDescriptor<>("hot", Types.LONG));
        }

        @Override
        public void processElement(WindowCount c, Context ctx, Collector<Q5Row> out) throws Exception {
            Long current = max.value();
            long m = current == null ? 0 : current;
            if (c.num > m) {
                max.update(c.num);
                hot.update(List.of(c.auction));
                ctx.timerService().registerEventTimeTimer(c.end - 1);
            } else if (c.num == m) {
                hot.add(c.auction);
            }
        }

        @Override
        public void onTimer(long timestamp, OnTimerContext ctx, Collector<Q5Row> out) throws Exception {
            Long num = max.value();
            Iterable<Long> auctions = hot.get();
            long end = ctx.getCurrentKey();
            if (num != null && auctions != null) for (Long auction : auctions) out.collect(new Q5Row(auction, num, end));
            max.clear();
            hot.clear();
        }
    }

    static final TypeInformation<List<Q7Row>> Q7_ROWS = Types.LIST(Types.POJO(Q7Row.class));
    static final TypeInformation<Top> TOP = Types.POJO(Top.class, Map.of("price", Types.LONG, "bids", Q7_ROWS));
    static final TypeInformation<WindowTop> WINDOW_TOP =
            Types.POJO(WindowTop.class, Map.of("price", Types.LONG, "bids", Q7_ROWS, "end", Types.LONG));

    /** q7: per auction and tumbling 10 s window the bids at the top price, then per window (keyed by end) the overall top. */
    static DataStream<Q7Row> q7(DataStream<Event> events) {
        return bids(events)
                .keyBy(e -> e.bid.auction, Types.LONG)
                .window(TumblingEventTimeWindows.of(Duration.ofMillis(WINDOW_MS)))
                .aggregate(new TopBids(), new TopWithWindowEnd(), TOP, WINDOW_TOP).name("top-per-auction")
                .keyBy(t -> t.end, Types.LONG)
                .process(new Q7Max()).returns(Q7Row.class).name("max-per-window");
    }

    static final class TopBids implements AggregateFunction<Event, Top, Top> {
        private static final long serialVersionUID = 1L;

        @Override
        public Top createAccumulator() {
            return new Top(-1, new ArrayList<>());
        }

        @Override
        public Top add(Event e, Top top) {
            Bid bid = e.bid;
            if (bid.price > top.price) {
                List<Q7Row> bids = new ArrayList<>(1);
                bids.add(new Q7Row(bid));
                return new Top(bid.price, bids);
            }
            if (bid.price == top.price) top.bids.add(new Q7Row(bid));
            return top;
        }

        @Override
        public Top getResult(Top top) {
            return top;
        }

        @Override
        public Top merge(Top a, Top b) {
            throw new UnsupportedOperationException("tumbling windows do not merge");
        }
    }

    static final class TopWithWindowEnd implements WindowFunction<Top, WindowTop, Long, TimeWindow> {
        private static final long serialVersionUID = 1L;

        @Override
        public void apply(Long auction, TimeWindow window, Iterable<Top> tops, Collector<WindowTop> out) {
            for (Top top : tops) out.collect(new WindowTop(top, window.getEnd()));
        }
    }

    static final class Q7Max extends KeyedProcessFunction<Long, WindowTop, Q7Row> {
        private static final long serialVersionUID = 1L;
        private transient ValueState<Top> top;

        @Override
        public void open(Configuration parameters) {
            top = getRuntimeContext().getState(new ValueStateDescriptor<>("top", TOP));
        }

        @Override
        public void processElement(WindowTop t, Context ctx, Collector<Q7Row> out) throws Exception {
            Top current = top.value();
            if (current == null || t.price > current.price) {
                top.update(new Top(t.price, t.bids));
                ctx.timerService().registerEventTimeTimer(t.end - 1);
            } else if (t.price == current.price) {
                List<Q7Row> bids = new ArrayList<>(current.bids);
                bids.addAll(t.bids);
                top.update(new Top(current.price, bids));
            }
        }

        @Override
        public void onTimer(long timestamp, OnTimerContext ctx, Collector<Q7Row> out) throws Exception {
            Top current = top.value();
            if (current != null) for (Q7Row bid : current.bids) out.collect(bid);
            top.clear();
        }
    }

    /**
     * q8: window coGroup of persons and auctions on person.id = auction.seller, tumbling 10 s;
     * each person of a window is emitted once if the window holds an auction of theirs.
     * Flink's CoGroupFunction does not see the window, so starttime is the start of the tumbling
     * window holding the person's timestamp (the window being applied, by construction).
     */
    static DataStream<Q8Row> q8(DataStream<Event> events) {
        DataStream<Event> persons = events.filter(e -> e.kind == Event.PERSON).name("persons");
        DataStream<Event> auctions = events.filter(e -> e.kind == Event.AUCTION).name("auctions");
        DataStream<Q8Row> joined = persons.coGroup(auctions)
                .where(e -> e.person.id, Types.LONG)
                .equalTo(e -> e.auction.seller, Types.LONG)
                .window(TumblingEventTimeWindows.of(Duration.ofMillis(WINDOW_MS)))
                .apply(new NewUsers(), Types.POJO(Q8Row.class));
        if (joined instanceof SingleOutputStreamOperator) ((SingleOutputStreamOperator<Q8Row>) joined).name("new-users");
        return joined;
    }

    static final class NewUsers implements CoGroupFunction<Event, Event, Q8Row> {
        private static final long serialVersionUID = 1L;

        @Override
        public void coGroup(Iterable<Event> persons, Iterable<Event> auctions, Collector<Q8Row> out) {
            if (!auctions.iterator().hasNext()) return;
            for (Event e : persons) {
                long start = TimeWindow.getWindowStartWithOffset(e.person.dateTime, 0, WINDOW_MS);
                out.collect(new Q8Row(e.person.id, e.person.name, start));
            }
        }
    }
}
