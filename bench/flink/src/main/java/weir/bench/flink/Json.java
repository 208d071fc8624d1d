package weir.bench.flink;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;

/** Hand-written JSON output matching JavaScript's JSON.stringify for strings and numbers. */
public final class Json {
    private Json() {}

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    /** A JSON string literal as JSON.stringify writes it (well-formed: lone surrogates escaped). */
    public static void string(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0, n = s.length(); i < n; i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"': sb.append("\\\""); break;
                case '\\': sb.append("\\\\"); break;
                case '\b': sb.append("\\b"); break;
                case '\f': sb.append("\\f"); break;
                case '\n': sb.append("\\n"); break;
                case '\r': sb.append("\\r"); break;
                case '\t': sb.append("\\t"); break;
                default:
                    if (c < 0x20) {
                        unicodeEscape(sb, c);
                    } else if (Character.isHighSurrogate(c)) {
                        if (i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                            sb.append(c).append(s.charAt(++i));
                        } else {
                            unicodeEscape(sb, c);
                        }
                    } else if (Character.isLowSurrogate(c)) {
                        unicodeEscape(sb, c);
                    } else {
                        sb.append(c);
                    }
            }
        }
        sb.append('"');
    }

    private static void unicodeEscape(StringBuilder sb, char c) {
        sb.append("\\u").append(HEX[(c >> 12) & 15]).append(HEX[(c >> 8) & 15]).append(HEX[(c >> 4) & 15]).append(HEX[c & 15]);
    }

    /**
     * A double as JavaScript's Number.prototype.toString (and JSON.stringify) prints it: the
     * shortest decimal that reads back as the same double (the closest such one), in plain
     * notation for 1e-7 <= |x| < 1e21 and exponential otherwise. Java 17's Double.toString is not
     * always shortest and switches to "E" notation at 1e7, so it cannot be used.
     */
    public static String number(double x) {
        if (Double.isNaN(x) || Double.isInfinite(x)) return "null"; // as JSON.stringify
        if (x == 0) return "0"; // also -0
        if (x == Math.rint(x) && Math.abs(x) < 1e15) return Long.toString((long) x);
        boolean negative = x < 0;
        BigDecimal exact = new BigDecimal(Math.abs(x));
        BigDecimal shortest = null;
        for (int p = 1; p <= 17; p++) {
            BigDecimal candidate = exact.round(new MathContext(p, RoundingMode.HALF_EVEN));
            if (candidate.doubleValue() == Math.abs(x)) {
                shortest = candidate;
                break;
            }
        }
        if (shortest == null) shortest = exact.round(new MathContext(17, RoundingMode.HALF_EVEN));
        shortest = shortest.stripTrailingZeros();
        String digits = shortest.unscaledValue().toString(); // s, k = digits.length()
        int k = digits.length();
        int n = k - shortest.scale(); // x = 0.digits * 10^n
        StringBuilder sb = new StringBuilder(32);
        if (negative) sb.append('-');
        if (k <= n && n <= 21) {
            sb.append(digits);
            for (int i = 0; i < n - k; i++) sb.append('0');
        } else if (0 < n && n <= 21) {
            sb.append(digits, 0, n).append('.').append(digits, n, k);
        } else if (-6 < n && n <= 0) {
            sb.append("0.");
            for (int i = 0; i < -n; i++) sb.append('0');
            sb.append(digits);
        } else {
            sb.append(digits.charAt(0));
            if (k > 1) sb.append('.').append(digits, 1, k);
            sb.append('e').append(n - 1 >= 0 ? "+" : "-").append(Math.abs(n - 1));
        }
        return sb.toString();
    }
}
