package weir.bench.flink;

/** A Nexmark auction (Weir's connectors/nexmark/model.ts, same fields). Flink POJO. */
public class Auction {
    public long id;
    public String itemName;
    public String description;
    public long initialBid;
    public long reserve;
    public long dateTime;
    public long expires;
    public long seller;
    public long category;
    public String extra;

    public Auction() {}

    void toJson(StringBuilder sb) {
        sb.append("{\"id\":").append(id);
        sb.append(",\"itemName\":"); Json.string(sb, itemName);
        sb.append(",\"description\":"); Json.string(sb, description);
        sb.append(",\"initialBid\":").append(initialBid);
        sb.append(",\"reserve\":").append(reserve);
        sb.append(",\"dateTime\":").append(dateTime);
        sb.append(",\"expires\":").append(expires);
        sb.append(",\"seller\":").append(seller);
        sb.append(",\"category\":").append(category);
        sb.append(",\"extra\":"); Json.string(sb, extra);
        sb.append('}');
    }
}
