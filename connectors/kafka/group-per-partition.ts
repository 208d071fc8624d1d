/**
 * Groups a send's messages by partition in linear time. Replaces kafkajs 2.2.4's
 * `producer/groupMessagesPerPartition.js`, which copies the partition's array for every message
 * (`[...current, message]`): time quadratic in the messages per partition, all of it synchronous
 * (measured alone, one partition: 8,000 messages 120 ms, 30,000 messages 7.8 s), so one large send
 * stalled the event loop for seconds.
 *
 * Contract (kafkajs's): the result maps each partition id to its messages in the order given;
 * `{}` when the topic has no partition metadata.
 */
export interface GroupArgs<M> {
  readonly topic: string;
  readonly partitionMetadata: readonly unknown[];
  readonly messages: readonly M[];
  readonly partitioner: (args: { topic: string; partitionMetadata: readonly unknown[]; message: M }) => number;
}

export const groupMessagesPerPartition = <M>({ topic, partitionMetadata, messages, partitioner }: GroupArgs<M>): Record<number, M[]> => {
  const result: Record<number, M[]> = {};
  if (partitionMetadata.length === 0) return result;
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    (result[partition] ??= []).push(message);
  }
  return result;
};
