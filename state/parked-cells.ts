/**
 * Cells evicted from a keyed store's cache whose latest value may not be in the backend yet: a
 * dirty cell whose write is queued behind earlier cuts, or a clean one that a cut still being
 * written has encoded. They stay findable here, generation by generation, until the write that
 * covers them has reached the backend; a read in between takes the parked cell back into the
 * cache (the same object, so a cut that still owes its value encodes it on the next touch).
 *
 * Contract: at most one cell object per (state, key) is live, in the cache or here. A generation
 * is released only after every cut taken before it was parked is written, and generations are
 * released in the order they were parked, so the newest generation holding a key holds its
 * latest cell, and while any generation is held every eviction parks (keyed-store.ts).
 */

/** One eviction's parked cells, by state (table index), keyed as the state's cache is. */
export interface ParkedGeneration<C> {
  readonly plain: Map<unknown, C>[];
  readonly composite: Map<string, C>[];
  size: number;
  /** Settles when the generation is released. */
  released: Promise<void>;
}

export class ParkedCells<C> {
  /** Oldest first. */
  private readonly generations: ParkedGeneration<C>[] = [];
  private cells = 0;

  /** Cells parked in every generation held. */
  get size(): number {
    return this.cells;
  }

  get empty(): boolean {
    return this.generations.length === 0;
  }

  /** The oldest generation's release, if any generation is held. */
  get oldestReleased(): Promise<void> | undefined {
    return this.generations[0]?.released;
  }

  /** Opens a generation for `tables` states; it is held until `releaseAfter`'s promise settles. */
  open(tables: number): ParkedGeneration<C> {
    const gen: ParkedGeneration<C> = {
      plain: Array.from({ length: tables }, () => new Map()),
      composite: Array.from({ length: tables }, () => new Map()),
      size: 0,
      released: Promise.resolve(),
    };
    this.generations.push(gen);
    return gen;
  }

  /**
   * Releases `gen` once `written` settles, which must be only after every cut taken so far is
   * written (settled either way: after a failed write the store refuses to go on). An empty
   * generation is dropped at once.
   */
  releaseAfter(gen: ParkedGeneration<C>, written: Promise<void>): void {
    if (gen.size === 0) {
      this.drop(gen);
      return;
    }
    gen.released = written.then(() => this.drop(gen));
  }

  park(gen: ParkedGeneration<C>, table: number, id: unknown, composite: boolean, cell: C): void {
    if (composite) gen.composite[table]!.set(id as string, cell);
    else gen.plain[table]!.set(id, cell);
    gen.size++;
    this.cells++;
  }

  /** The latest parked cell of `id` in state `table`, if one is parked. */
  find(table: number, id: unknown, composite: boolean): C | undefined {
    for (let g = this.generations.length - 1; g >= 0; g--) {
      const gen = this.generations[g]!;
      const cell = composite ? gen.composite[table]!.get(id as string) : gen.plain[table]!.get(id);
      if (cell !== undefined) return cell;
    }
    return undefined;
  }

  private drop(gen: ParkedGeneration<C>): void {
    const at = this.generations.indexOf(gen);
    if (at < 0) return;
    this.generations.splice(at, 1);
    this.cells -= gen.size;
  }
}
