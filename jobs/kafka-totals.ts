/**
 * Kafka totals: reads JSON transactions `{account, amount}` from a Kafka topic, keeps the
 * running total per account in keyed state, and writes `{account, total}` keyed by account to
 * another topic with the exactly-once Kafka sink (Kafka transactions committed at checkpoints).
 *
 *   npm run kafka:start        # a local single-node broker at 127.0.0.1:9092
 *   weir run jobs/kafka-totals.ts [--param brokers=HOST:PORT] [--param input=transactions]
 *        [--param output=totals] [--param mode=exactly-once|at-least-once|none]
 *        [--param bad-records=fail|skip|dlq:<topic>] [--param bounded=false]
 */
import { job, valueState, type Collector } from "weir";
import { fromKafka, toKafka, type BadRecordPolicy, type KafkaSinkMode } from "weir/kafka";

export interface Transaction {
  readonly account: number;
  readonly amount: number;
}

export interface AccountTotal {
  readonly account: number;
  readonly total: number;
}

/** Parses a transaction; anything else is a bad record (handled by the source's policy). */
export const parseTransaction = (bytes: Buffer | null): Transaction => {
  const v = JSON.parse(bytes?.toString("utf8") ?? "null") as Partial<Transaction> | null;
  if (v === null || typeof v.account !== "number" || typeof v.amount !== "number") {
    throw new Error("expected {\"account\": number, \"amount\": number}");
  }
  return { account: v.account, amount: v.amount };
};

const badRecordPolicy = (text: string): BadRecordPolicy => {
  if (text === "fail" || text === "skip") return text;
  if (text.startsWith("dlq:") && text.length > 4) return { deadLetterTopic: text.slice(4) };
  throw new Error(`bad-records must be fail, skip or dlq:<topic>, got '${text}'`);
};

export default job("kafka-totals", (env) => {
  const p = env.params;
  const brokers = p.get("brokers", "127.0.0.1:9092");
  env
    .source(
      fromKafka({
        brokers,
        topic: p.get("input", "transactions"),
        value: parseTransaction,
        bounded: p.boolean("bounded", false),
        onBadRecord: badRecordPolicy(p.get("bad-records", "fail")),
        onBadRecordHint: "--param bad-records=skip or --param bad-records=dlq:<topic>",
      }),
      { name: "transactions" },
    )
    .keyBy((r) => r.value.account)
    .process(
      {
        state: { total: valueState(0) },
        processElement(r, ctx, out: Collector<AccountTotal>) {
          const total = ctx.state.total.value() + r.value.amount;
          ctx.state.total.update(total);
          out.collect({ account: ctx.key, total });
        },
      },
      { name: "running-total" },
    )
    .sink(
      toKafka<AccountTotal>({
        brokers,
        topic: p.get("output", "totals"),
        key: (t) => String(t.account),
        mode: p.get("mode", "exactly-once") as KafkaSinkMode,
        ...(p.has("txn-timeout-ms") ? { transactionTimeoutMs: p.integer("txn-timeout-ms", 0) } : {}),
      }),
      { name: "totals" },
    );
});
