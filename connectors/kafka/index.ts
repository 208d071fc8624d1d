/**
 * connectors/kafka: Kafka source and sink (kafkajs 2.2.4, pinned), exactly-once via Kafka
 * transactions as two-phase commit.
 *
 * ```ts
 * env.source(fromKafka({ brokers: "127.0.0.1:9092", topic: "in" }))
 *   .map((r) => r.value)
 *   .sink(toKafka({ brokers: "127.0.0.1:9092", topic: "out", key: (v) => String(v.id) }));
 * ```
 */
export { fromKafka, type KafkaRecord, type KafkaSource, type KafkaSourceOptions, type BadRecordPolicy } from "./source.ts";
export { toKafka, transactionalId, type KafkaSinkMode, type KafkaSinkOptions, type KafkaWriterState } from "./sink.ts";
export { deserializers, serializers, type Deserializer, type Serializer } from "./serde.ts";
export { TransactionBridge, type TransactionHandle, type EndOutcome } from "./txn-bridge.ts";
export { brokerList, createKafka, kafkaError } from "./client.ts";
