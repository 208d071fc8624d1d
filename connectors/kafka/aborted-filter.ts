/**
 * Drops the records of aborted transactions from a read_committed fetch, as Kafka's own client
 * does. Replaces kafkajs 2.2.4's filter, which activates at most one aborted transaction per
 * record: when two producers' transactions interleave in a partition and both abort (two sink
 * subtasks writing the same partition, then a crash), records of the second one leak through to a
 * "read_committed" kafkajs consumer. (Found by Weir's Kafka crash test; kcat did not see them.)
 *
 * Contract (the broker's): `abortedTransactions` lists, for this fetch, each aborted transaction's
 * producer id and first offset; a transaction ends at its producer's abort marker (a control
 * record whose key is version 0, type 0). Records are given in offset order.
 */
export interface FetchedRecord {
  readonly offset: string;
  readonly key: Buffer | null;
  readonly isControlRecord?: boolean;
  readonly batchContext: { readonly producerId: string; readonly inTransaction: boolean };
}

export interface AbortedTransaction {
  readonly producerId: string;
  readonly firstOffset: string;
}

const isAbortMarker = (r: FetchedRecord): boolean =>
  r.isControlRecord === true && r.key !== null && r.key.length >= 4 && r.key.readUInt16BE(0) === 0 && r.key.readUInt16BE(2) === 0;

export const filterAborted = <R extends FetchedRecord>(params: { messages: readonly R[]; abortedTransactions?: readonly AbortedTransaction[] }): R[] => {
  const aborted = params.abortedTransactions ?? [];
  if (aborted.length === 0) return [...params.messages];
  const pending = [...aborted].sort((a, b) => (BigInt(a.firstOffset) < BigInt(b.firstOffset) ? -1 : BigInt(a.firstOffset) > BigInt(b.firstOffset) ? 1 : 0));
  const active = new Set<string>();
  let next = 0;
  const kept: R[] = [];
  for (const r of params.messages) {
    const offset = BigInt(r.offset);
    // Every aborted transaction that has started by this offset is now in force.
    while (next < pending.length && BigInt(pending[next]!.firstOffset) <= offset) active.add(String(pending[next++]!.producerId));
    const producer = String(r.batchContext.producerId);
    if (isAbortMarker(r)) {
      active.delete(producer);
      kept.push(r); // control records are dropped later by kafkajs itself
    } else if (!(r.batchContext.inTransaction && active.has(producer))) {
      kept.push(r);
    }
  }
  return kept;
};
