package weir.bench.flink;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;

/**
 * canonical(row) and its FNV-1a-64 digest (NEXMARK-SPEC section 3), computed in one pass without
 * building the string (the sink's hot path); with `keepText` it also builds the string (self-check,
 * --print-output). A row writes its fields in ASCII order of their names, each as `name=value`,
 * joined with `|`: integers in decimal, other doubles as `x` + the 16 lowercase hex digits of their
 * IEEE-754 bits, strings as they are (hashed as UTF-8; Nexmark's strings are ASCII).
 * Not thread-safe: one per sink subtask.
 */
final class Canon {
    static final long OFFSET = 0xcbf29ce484222325L;
    static final long PRIME = 0x100000001b3L;
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private final StringBuilder text;
    private final char[] digits = new char[20];
    private long h;
    private boolean first;

    Canon(boolean keepText) {
        text = keepText ? new StringBuilder(256) : null;
    }

    /** Starts a new row. */
    Canon begin() {
        h = OFFSET;
        first = true;
        if (text != null) text.setLength(0);
        return this;
    }

    long digest() {
        return h;
    }

    String text() {
        return text == null ? null : text.toString();
    }

    Canon str(String name, String value) {
        key(name);
        chars(value);
        return this;
    }

    Canon num(String name, long value) {
        key(name);
        integer(value);
        return this;
    }

    Canon num(String name, double value) {
        key(name);
        if (Double.isFinite(value) && value == Math.rint(value)) {
            if (Math.abs(value) < 0x1p63) integer((long) value); // also -0 -> "0"
            else chars(new BigDecimal(value).toPlainString());
        } else {
            ch('x');
            long bits = Double.doubleToRawLongBits(value);
            for (int shift = 60; shift >= 0; shift -= 4) ch(HEX[(int) (bits >>> shift) & 15]);
        }
        return this;
    }

    private void key(String name) {
        if (!first) ch('|');
        first = false;
        chars(name);
        ch('=');
    }

    private void integer(long v) {
        if (v == Long.MIN_VALUE) {
            chars("-9223372036854775808");
            return;
        }
        if (v < 0) {
            ch('-');
            v = -v;
        }
        int i = digits.length;
        do {
            digits[--i] = (char) ('0' + v % 10);
            v /= 10;
        } while (v != 0);
        for (; i < digits.length; i++) ch(digits[i]);
    }

    private void chars(String s) {
        for (int i = 0, n = s.length(); i < n; i++) {
            char c = s.charAt(i);
            if (c >= 0x80) {
                utf8(s.substring(i));
                return;
            }
            ch(c);
        }
    }

    private void utf8(String rest) {
        for (byte b : rest.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xff)) * PRIME;
        }
        if (text != null) text.append(rest);
    }

    private void ch(char c) {
        h = (h ^ c) * PRIME;
        if (text != null) text.append(c);
    }

    /** FNV-1a-64 of the UTF-8 bytes of s (the self-check's reference, independent of the writer above). */
    static long fnv1a64(String s) {
        long x = OFFSET;
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) x = (x ^ (b & 0xff)) * PRIME;
        return x;
    }

    static String hex16(long v) {
        String s = Long.toHexString(v);
        return "0".repeat(16 - s.length()) + s;
    }
}
