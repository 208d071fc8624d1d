/**
 * Savepoints asked for while a job runs: each request waits for the first checkpoint triggered
 * after it (a checkpoint already in progress when it was asked may hold state from before the
 * request, so it does not count), then copies that checkpoint into its target directory
 * (checkpoint/savepoint.ts) while holding it against retention. As in Flink, a savepoint fails
 * when its checkpoint is aborted; a request still waiting when the run ends fails with the reason.
 * `settled()` waits for the copies under way (the run awaits it before it exits).
 */
import { userError } from "../../common/errors.ts";

interface Pending {
  /** The highest checkpoint id triggered when the request was made. */
  readonly afterId: number;
  readonly target: string;
  resolve(path: string): void;
  reject(error: unknown): void;
}

export type SavepointWriter = (id: number, checkpointDir: string, target: string) => Promise<string>;

export class SavepointRequests {
  private pending: Pending[] = [];
  private readonly copying = new Set<Promise<unknown>>();

  constructor(private readonly write: SavepointWriter) {}

  /** A savepoint into `target` from the first checkpoint with an id above `afterId`. */
  add(afterId: number, target: string): Promise<string> {
    return new Promise((resolve, reject) => this.pending.push({ afterId, target, resolve, reject }));
  }

  get waiting(): number {
    return this.pending.length;
  }

  /**
   * Checkpoint `id` completed in `dir`: the requests it satisfies copy it. `hold` keeps it from
   * retention until every copy is done; call this when the checkpoint completes.
   */
  onCompleted(id: number, dir: string, hold: (id: number) => () => void): void {
    const due = this.pending.filter((p) => id > p.afterId);
    if (due.length === 0) return;
    this.pending = this.pending.filter((p) => id <= p.afterId);
    const release = hold(id);
    const copies = due.map((p) => this.write(id, dir, p.target).then(p.resolve, p.reject));
    const all = Promise.all(copies).finally(release);
    this.copying.add(all);
    void all.finally(() => this.copying.delete(all));
  }

  /** Checkpoint `id` was aborted: the requests it would have served fail. */
  onAborted(id: number, reason: string): void {
    const failed = this.pending.filter((p) => id > p.afterId);
    this.pending = this.pending.filter((p) => id <= p.afterId);
    for (const p of failed) p.reject(userError("SAVEPOINT_FAILED", `the savepoint's checkpoint ${id} was aborted: ${reason}`));
  }

  /** The run ended (or failed) before these requests got a checkpoint. */
  failAll(why: string): void {
    for (const p of this.pending.splice(0)) p.reject(userError("SAVEPOINT_NOT_TAKEN", `no savepoint was taken: ${why}`));
  }

  /** Resolves once every copy under way has finished (well or not). */
  async settled(): Promise<void> {
    while (this.copying.size > 0) await Promise.allSettled([...this.copying]);
  }
}
