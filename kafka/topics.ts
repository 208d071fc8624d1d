/**
 * Creating a topic and waiting until every partition has a leader, with kafkajs's admin client.
 *
 *   const outcome = await createTopicAndWait(admin, { topic: "totals", partitions: 3 }); // "created" | "exists"
 *
 * Why not kafkajs's `createTopics({ waitForLeaders: true })`: it asks for the new topic's metadata
 * right after creating it and fails on UNKNOWN_TOPIC_OR_PARTITION. With KRaft the broker learns of
 * a new topic from the controller a moment later, so that answer is normal (seen on a busy
 * machine); this waits through it.
 */
import type { Admin } from "kafkajs";
import { describeError, externalError } from "../common/errors.ts";

export interface CreateTopicOptions {
  readonly topic: string;
  readonly partitions: number;
  /** Replication factor; default: the broker's default. */
  readonly replicationFactor?: number;
  /** For the creation and, separately, for the leaders. Default 30 s. */
  readonly timeoutMs?: number;
}

const POLL_MS = 100;

/**
 * Creates the topic, or finds it exists ("exists": nothing else is checked), then waits until the
 * broker reports a leader for each of its partitions. Throws if the creation fails, or if the
 * leaders are not all there within `timeoutMs` (naming the topic and the last metadata error).
 */
export async function createTopicAndWait(admin: Admin, o: CreateTopicOptions): Promise<"created" | "exists"> {
  const timeoutMs = o.timeoutMs ?? 30_000;
  const created = await admin.createTopics({
    topics: [{ topic: o.topic, numPartitions: o.partitions, ...(o.replicationFactor === undefined ? {} : { replicationFactor: o.replicationFactor }) }],
    waitForLeaders: false,
    timeout: timeoutMs,
  });
  const deadline = Date.now() + timeoutMs;
  let last = "no leader yet";
  for (;;) {
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [o.topic] });
      const partitions = topics[0]?.partitions ?? [];
      if (partitions.length > 0 && partitions.every((p) => p.leader >= 0)) return created ? "created" : "exists";
      last = `${partitions.filter((p) => p.leader >= 0).length} of ${partitions.length} partitions have a leader`;
    } catch (e) {
      last = describeError(e); // e.g. UNKNOWN_TOPIC_OR_PARTITION until the broker knows the topic
    }
    if (Date.now() > deadline) {
      throw externalError("KAFKA_TOPIC_NOT_READY", `Kafka topic ${o.topic} has no leader for every partition ${timeoutMs / 1000} s after creation (${last})`);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
