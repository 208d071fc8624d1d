package weir.bench.flink;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.List;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.DataTypes;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.Schema;
import org.apache.flink.table.api.Table;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.types.Row;
import weir.bench.flink.Rows.Q5Row;
import weir.bench.flink.Rows.Q7Row;

/**
 * q5 and q7 as Flink SQL with window table-valued functions, written as Nexmark's q5.sql and
 * q7.sql (nexmark/nexmark, nexmark-flink/src/main/resources/queries/), over a table made from the
 * same generator DataStream. The table is Nexmark's `datagen` shape: one column per event kind
 * (`kind` = Nexmark's event_type, `person`/`auction`/`bid` rows) plus the rowtime `dateTime`, with the
 * DataStream's own watermarks (the source's 4 s bounded out-of-orderness per split); the `bid` view
 * is ddl_views.sql's. Changes to the queries, all in the SELECT / join condition:
 * - q5 also selects the window end (the contract's ⊕end).
 * - q7's `BETWEEN window_end - 10 s AND window_end` (inclusive at both ends: a bid exactly at a
 *   window's end, which belongs to the next window, could also match the previous window's max) is
 *   half-open, `>= window_end - 10 s AND < window_end`, as in Weir's q7 and Beam's Query7, so that
 *   the outputs compare equal.
 * Output rows go back to a DataStream and into the same stats sink as the DataStream plans.
 */
final class SqlQueries {
    private SqlQueries() {}

    static final List<String> NAMES = List.of("q5", "q7");

    static final String BID_VIEW = "CREATE TEMPORARY VIEW bid AS\n"
            + "SELECT\n"
            + "    bid.auction,\n"
            + "    bid.bidder,\n"
            + "    bid.price,\n"
            + "    bid.channel,\n"
            + "    bid.url,\n"
            + "    `dateTime`,\n"
            + "    bid.extra\n"
            + "FROM nexmark WHERE kind = 2";

    static final String Q5 = "SELECT AuctionBids.auction, AuctionBids.num, AuctionBids.endtime\n"
            + " FROM (\n"
            + "   SELECT\n"
            + "     auction,\n"
            + "     count(*) AS num,\n"
            + "     window_start AS starttime,\n"
            + "     window_end AS endtime\n"
            + "     FROM TABLE(\n"
            + "             HOP(TABLE bid, DESCRIPTOR(`dateTime`), INTERVAL '2' SECOND, INTERVAL '10' SECOND))\n"
            + "     GROUP BY auction, window_start, window_end\n"
            + " ) AS AuctionBids\n"
            + " JOIN (\n"
            + "   SELECT\n"
            + "     max(CountBids.num) AS maxn,\n"
            + "     CountBids.starttime,\n"
            + "     CountBids.endtime\n"
            + "   FROM (\n"
            + "     SELECT\n"
            + "       count(*) AS num,\n"
            + "       window_start AS starttime,\n"
            + "       window_end AS endtime\n"
            + "     FROM TABLE(\n"
            + "                HOP(TABLE bid, DESCRIPTOR(`dateTime`), INTERVAL '2' SECOND, INTERVAL '10' SECOND))\n"
            + "     GROUP BY auction, window_start, window_end\n"
            + "     ) AS CountBids\n"
            + "   GROUP BY CountBids.starttime, CountBids.endtime\n"
            + " ) AS MaxBids\n"
            + " ON AuctionBids.starttime = MaxBids.starttime AND\n"
            + "    AuctionBids.endtime = MaxBids.endtime AND\n"
            + "    AuctionBids.num >= MaxBids.maxn";

    static final String Q7 = "SELECT B.auction, B.price, B.bidder, B.`dateTime`, B.extra\n"
            + "from bid B\n"
            + "JOIN (\n"
            + "  SELECT MAX(price) AS maxprice, window_end as `dateTime`\n"
            + "  FROM TABLE(\n"
            + "          TUMBLE(TABLE bid, DESCRIPTOR(`dateTime`), INTERVAL '10' SECOND))\n"
            + "  GROUP BY window_start, window_end\n"
            + ") B1\n"
            + "ON B.price = B1.maxprice\n"
            + "WHERE B.`dateTime` >= B1.`dateTime` - INTERVAL '10' SECOND AND B.`dateTime` < B1.`dateTime`";

    static StreamTableEnvironment tableEnv(StreamExecutionEnvironment env, DataStream<Event> events) {
        StreamTableEnvironment tEnv = StreamTableEnvironment.create(env, EnvironmentSettings.inStreamingMode());
        tEnv.getConfig().setLocalTimeZone(ZoneOffset.UTC); // windows aligned to the epoch, as the DataStream plans'
        Table nexmark = tEnv.fromDataStream(events, Schema.newBuilder()
                .columnByMetadata("dateTime", DataTypes.TIMESTAMP_LTZ(3), "rowtime")
                .watermark("dateTime", "SOURCE_WATERMARK()")
                .build());
        tEnv.createTemporaryView("nexmark", nexmark);
        tEnv.executeSql(BID_VIEW);
        return tEnv;
    }

    static String sql(String query) {
        switch (query) {
            case "q5": return Q5;
            case "q7": return Q7;
            default: throw new IllegalArgumentException("--api sql has " + NAMES + ", not '" + query + "'");
        }
    }

    static DataStream<? extends Rows.OutRow> build(String query, StreamExecutionEnvironment env, DataStream<Event> events) {
        StreamTableEnvironment tEnv = tableEnv(env, events);
        DataStream<Row> rows = tEnv.toDataStream(tEnv.sqlQuery(sql(query)));
        if (query.equals("q5")) {
            return rows.map(r -> new Q5Row((Long) r.getField("auction"), (Long) r.getField("num"), epochMs(r.getField("endtime"))))
                    .returns(Types.POJO(Q5Row.class)).name("to-rows");
        }
        return rows.map(r -> new Q7Row((Long) r.getField("auction"), (Long) r.getField("price"), (Long) r.getField("bidder"),
                        epochMs(r.getField("dateTime")), (String) r.getField("extra")))
                .returns(Types.POJO(Q7Row.class)).name("to-rows");
    }

    /** The plan, for the README and for checking which operators the planner chose. */
    static String explain(String query, StreamExecutionEnvironment env, DataStream<Event> events) {
        return tableEnv(env, events).explainSql(sql(query));
    }

    static long epochMs(Object t) {
        if (t instanceof Instant) return ((Instant) t).toEpochMilli();
        if (t instanceof LocalDateTime) return ((LocalDateTime) t).toInstant(ZoneOffset.UTC).toEpochMilli();
        throw new IllegalStateException("unexpected time value " + t + (t == null ? "" : " (" + t.getClass() + ")"));
    }
}
