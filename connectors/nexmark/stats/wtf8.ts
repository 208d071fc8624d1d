/**
 * The bytes `Fnv1a64.string` hashes for a JS string: UTF-8 of its code points, where a surrogate
 * pair is one code point (4 bytes) and a lone surrogate is encoded like any other code point below
 * 0x10000 (3 bytes, ED A0..BF xx) — WTF-8. For well-formed strings this is exactly UTF-8
 * (TextEncoder, Buffer); for a lone surrogate those write U+FFFD (EF BF BD) instead, and Java's
 * String.getBytes(UTF_8) writes '?' (3F).
 *
 *   writeWtf8("é\uD800", bytes, 0);   // 5: C3 A9 ED A0 80
 *
 * The caller provides room: at most 3 bytes per UTF-16 unit (`3 * s.length` from `at`); writing
 * past `into`'s end is silently dropped (a typed array ignores it), so the bytes are then wrong.
 */

/** Writes the WTF-8 bytes of `s` at `into[at]`; returns the offset after the last byte. */
export const writeWtf8 = (s: string, into: Uint8Array, at: number): number => {
  let o = at;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      into[o++] = c;
    } else if (c < 0x800) {
      into[o++] = 0xc0 | (c >> 6);
      into[o++] = 0x80 | (c & 0x3f);
    } else {
      if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
        const d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d < 0xe000) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
          into[o++] = 0xf0 | (c >> 18);
          into[o++] = 0x80 | ((c >> 12) & 0x3f);
          into[o++] = 0x80 | ((c >> 6) & 0x3f);
          into[o++] = 0x80 | (c & 0x3f);
          continue;
        }
      }
      into[o++] = 0xe0 | (c >> 12);
      into[o++] = 0x80 | ((c >> 6) & 0x3f);
      into[o++] = 0x80 | (c & 0x3f);
    }
  }
  return o;
};
