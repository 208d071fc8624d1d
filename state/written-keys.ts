/**
 * The keys ever written to a backend, as a Bloom filter: `mayContain` is false only for a key
 * never `add`ed (no false negatives), and true for about 1 % of the others.
 *
 *   const written = new WrittenKeys();
 *   written.add(key);
 *   written.mayContain(key);   // true
 *
 * It grows in layers: a layer holds up to one key per 10 bits (~1 % false positives with 5
 * probes), then the next, twice as large, takes the new keys; a lookup probes every layer, so
 * with L layers up to about L % of never-written keys are read anyway. Keys already reported
 * present are not added again, so rewriting the same keys at every checkpoint does not grow it.
 * Past `maxBytes` of layers it is saturated: its layers are freed and `mayContain` is always true
 * (correct, just no longer useful).
 */

const PROBES = 5;
const BITS_PER_KEY = 10;
const FIRST_LAYER_BITS = 1 << 20; // 128 KiB

interface Layer {
  readonly words: Uint32Array;
  readonly mask: number;
  readonly capacity: number;
  count: number;
}

const newLayer = (bits: number): Layer => ({ words: new Uint32Array(bits >>> 5), mask: bits - 1, capacity: Math.floor(bits / BITS_PER_KEY), count: 0 });

// Two 32-bit hashes of the key's bytes in one pass (FNV-1a, and a multiplicative one), combined
// as h1 + i·h2 for the probes (Kirsch & Mitzenmacher).
let h1 = 0;
let h2 = 0;
const hash = (key: Uint8Array): void => {
  let a = 0x811c9dc5;
  let b = 0x9747b28c ^ key.length;
  for (let i = 0; i < key.length; i++) {
    const c = key[i]!;
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  b = Math.imul(b ^ (b >>> 13), 0xc2b2ae35);
  h1 = a >>> 0;
  h2 = (b ^ (b >>> 16)) | 1;
};

const probe = (layer: Layer): boolean => {
  const { words, mask } = layer;
  for (let i = 0; i < PROBES; i++) {
    const bit = (h1 + Math.imul(i, h2)) & mask;
    if ((words[bit >>> 5]! & (1 << (bit & 31))) === 0) return false;
  }
  return true;
};

const set = (layer: Layer): void => {
  const { words, mask } = layer;
  for (let i = 0; i < PROBES; i++) {
    const bit = (h1 + Math.imul(i, h2)) & mask;
    words[bit >>> 5]! |= 1 << (bit & 31);
  }
  layer.count++;
};

export class WrittenKeys {
  private readonly layers: Layer[] = [newLayer(FIRST_LAYER_BITS)];
  private bytes = FIRST_LAYER_BITS >>> 3;
  private readonly maxBytes: number;
  private saturated = false;

  /** `maxBytes`: memory the layers may take before the filter is saturated (default 64 MiB). */
  constructor(maxBytes = 64 << 20) {
    this.maxBytes = maxBytes;
  }

  /** False only if `key` was never added. */
  mayContain(key: Uint8Array): boolean {
    if (this.saturated) return true;
    hash(key);
    return this.probeAll();
  }

  add(key: Uint8Array): void {
    if (this.saturated) return;
    hash(key);
    if (this.probeAll()) return;
    let layer = this.layers[this.layers.length - 1]!;
    if (layer.count >= layer.capacity) {
      const bits = (layer.mask + 1) * 2;
      if (this.bytes + (bits >>> 3) > this.maxBytes) {
        this.saturated = true;
        this.layers.length = 0;
        this.bytes = 0;
        return;
      }
      layer = newLayer(bits);
      this.layers.push(layer);
      this.bytes += bits >>> 3;
    }
    set(layer);
  }

  /** Memory the layers take. */
  get byteSize(): number {
    return this.bytes;
  }

  get isSaturated(): boolean {
    return this.saturated;
  }

  private probeAll(): boolean {
    const layers = this.layers;
    for (let l = 0; l < layers.length; l++) if (probe(layers[l]!)) return true;
    return false;
  }
}
