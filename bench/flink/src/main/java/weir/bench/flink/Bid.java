package weir.bench.flink;

/** A Nexmark bid with Flink's channel and url (Weir's connectors/nexmark/model.ts, same fields). Flink POJO. */
public class Bid {
    public long auction;
    public long bidder;
    public long price;
    public String channel;
    public String url;
    public long dateTime;
    public String extra;

    public Bid() {}

    void toJson(StringBuilder sb) {
        sb.append("{\"auction\":").append(auction);
        sb.append(",\"bidder\":").append(bidder);
        sb.append(",\"price\":").append(price);
        sb.append(",\"channel\":"); Json.string(sb, channel);
        sb.append(",\"url\":"); Json.string(sb, url);
        sb.append(",\"dateTime\":").append(dateTime);
        sb.append(",\"extra\":"); Json.string(sb, extra);
        sb.append('}');
    }
}
