package weir.bench.flink;

/** A Nexmark person (Weir's connectors/nexmark/model.ts, same fields). Flink POJO. */
public class Person {
    public long id;
    public String name;
    public String emailAddress;
    public String creditCard;
    public String city;
    public String state;
    public long dateTime;
    public String extra;

    public Person() {}

    void toJson(StringBuilder sb) {
        sb.append("{\"id\":").append(id);
        sb.append(",\"name\":"); Json.string(sb, name);
        sb.append(",\"emailAddress\":"); Json.string(sb, emailAddress);
        sb.append(",\"creditCard\":"); Json.string(sb, creditCard);
        sb.append(",\"city\":"); Json.string(sb, city);
        sb.append(",\"state\":"); Json.string(sb, state);
        sb.append(",\"dateTime\":").append(dateTime);
        sb.append(",\"extra\":"); Json.string(sb, extra);
        sb.append('}');
    }
}
