/*
 * pow(x, y) from fdlibm's e_pow.c, as V8 (and so Node.js and Weir) evaluates Math.pow.
 *
 * ====================================================
 * Copyright (C) 1993 by Sun Microsystems, Inc. All rights reserved.
 *
 * Developed at SunSoft, a Sun Microsystems, Inc. business.
 * Permission to use, copy, modify, and distribute this
 * software is freely granted, provided that this notice
 * is preserved.
 * ====================================================
 */
package weir.bench.flink;

/**
 * fdlibm's __ieee754_pow transcribed to Java operation for operation (V8 evaluates Math.pow with
 * this C code). JDK 17's StrictMath.pow (its own Java port of fdlibm) differs from it in the last
 * bit for about 4% of the arguments the Nexmark generator uses, which would make a price differ
 * once in a few billion draws; this keeps the generator bit-identical to Weir's.
 */
final class FdlibmPow {
    private FdlibmPow() {}

    private static final double[] BP = {1.0, 1.5};
    private static final double[] DP_H = {0.0, 5.84962487220764160156e-01}; // 0x3FE2B803, 0x40000000
    private static final double[] DP_L = {0.0, 1.35003920212974897128e-08}; // 0x3E4CFDEB, 0x43CFD006
    private static final double ZERO = 0.0;
    private static final double ONE = 1.0;
    private static final double TWO = 2.0;
    private static final double TWO53 = 9007199254740992.0;
    private static final double HUGE = 1.0e300;
    private static final double TINY = 1.0e-300;
    // poly coefs for (3/2)*(log(x)-2s-2/3*s**3
    private static final double L1 = 5.99999999999994648725e-01;
    private static final double L2 = 4.28571428578550184252e-01;
    private static final double L3 = 3.33333329818377432918e-01;
    private static final double L4 = 2.72728123808534006489e-01;
    private static final double L5 = 2.30660745775561754067e-01;
    private static final double L6 = 2.06975017800338417784e-01;
    private static final double P1 = 1.66666666666666019037e-01;
    private static final double P2 = -2.77777777770155933842e-03;
    private static final double P3 = 6.61375632143793436117e-05;
    private static final double P4 = -1.65339022054652515390e-06;
    private static final double P5 = 4.13813679705723846039e-08;
    private static final double LG2 = 6.93147180559945286227e-01;
    private static final double LG2_H = 6.93147182464599609375e-01;
    private static final double LG2_L = -1.90465429995776804525e-09;
    private static final double OVT = 8.0085662595372944372e-17;
    private static final double CP = 9.61796693925975554329e-01;
    private static final double CP_H = 9.61796700954437255859e-01;
    private static final double CP_L = -7.02846165095275826516e-09;
    private static final double IVLN2 = 1.44269504088896338700e+00;
    private static final double IVLN2_H = 1.44269502162933349609e+00;
    private static final double IVLN2_L = 1.92596299112661746887e-08;

    private static int hi(double d) {
        return (int) (Double.doubleToRawLongBits(d) >>> 32);
    }

    private static int lo(double d) {
        return (int) Double.doubleToRawLongBits(d);
    }

    private static double withLow(double d, int low) {
        return Double.longBitsToDouble((Double.doubleToRawLongBits(d) & 0xFFFFFFFF00000000L) | (low & 0xFFFFFFFFL));
    }

    private static double withHigh(double d, int high) {
        return Double.longBitsToDouble(((long) high << 32) | (Double.doubleToRawLongBits(d) & 0xFFFFFFFFL));
    }

    static double pow(double x, double y) {
        double z, ax, zH, zL, pH, pL;
        double y1, t1, t2, r, s, t, u, v, w;
        int i, j, k, yisint, n;
        int hx, hy, ix, iy;
        int lx, ly;

        hx = hi(x);
        lx = lo(x);
        hy = hi(y);
        ly = lo(y);
        ix = hx & 0x7fffffff;
        iy = hy & 0x7fffffff;

        // y == zero: x**0 = 1
        if ((iy | ly) == 0) return ONE;

        // +-NaN return x + y
        if (ix > 0x7ff00000 || ((ix == 0x7ff00000) && (lx != 0)) || iy > 0x7ff00000 || ((iy == 0x7ff00000) && (ly != 0))) {
            return x + y;
        }

        // yisint = 0: y not an integer; 1: odd int; 2: even int (only when x < 0)
        yisint = 0;
        if (hx < 0) {
            if (iy >= 0x43400000) {
                yisint = 2;
            } else if (iy >= 0x3ff00000) {
                k = (iy >> 20) - 0x3ff;
                if (k > 20) {
                    j = ly >>> (52 - k);
                    if ((j << (52 - k)) == ly) yisint = 2 - (j & 1);
                } else if (ly == 0) {
                    j = iy >> (20 - k);
                    if ((j << (20 - k)) == iy) yisint = 2 - (j & 1);
                }
            }
        }

        // special value of y
        if (ly == 0) {
            if (iy == 0x7ff00000) { // y is +-inf
                if (((ix - 0x3ff00000) | lx) == 0) {
                    return y - y; // inf**+-1 is NaN
                } else if (ix >= 0x3ff00000) { // (|x|>1)**+-inf = inf,0
                    return (hy >= 0) ? y : ZERO;
                } else { // (|x|<1)**-,+inf = inf,0
                    return (hy < 0) ? -y : ZERO;
                }
            }
            if (iy == 0x3ff00000) { // y is +-1
                return hy < 0 ? ONE / x : x;
            }
            if (hy == 0x40000000) return x * x; // y is 2
            if (hy == 0x3fe00000) { // y is 0.5
                if (hx >= 0) return Math.sqrt(x);
            }
        }

        ax = Math.abs(x);
        // special value of x
        if (lx == 0) {
            if (ix == 0x7ff00000 || ix == 0 || ix == 0x3ff00000) {
                z = ax; // x is +-0,+-inf,+-1
                if (hy < 0) z = ONE / z;
                if (hx < 0) {
                    if (((ix - 0x3ff00000) | yisint) == 0) {
                        z = Double.NaN; // (-1)**non-int is NaN
                    } else if (yisint == 1) {
                        z = -z; // (x<0)**odd = -(|x|**odd)
                    }
                }
                return z;
            }
        }

        n = (hx >> 31) + 1;

        // (x<0)**(non-int) is NaN
        if ((n | yisint) == 0) return Double.NaN;

        s = ONE; // sign of result
        if ((n | (yisint - 1)) == 0) s = -ONE; // (-ve)**(odd int)

        if (iy > 0x41e00000) { // |y| > 2**31
            if (iy > 0x43f00000) { // |y| > 2**64, must o/uflow
                if (ix <= 0x3fefffff) return (hy < 0) ? HUGE * HUGE : TINY * TINY;
                if (ix >= 0x3ff00000) return (hy > 0) ? HUGE * HUGE : TINY * TINY;
            }
            // over/underflow if x is not close to one
            if (ix < 0x3fefffff) return (hy < 0) ? s * HUGE * HUGE : s * TINY * TINY;
            if (ix > 0x3ff00000) return (hy > 0) ? s * HUGE * HUGE : s * TINY * TINY;
            // |1-x| is tiny <= 2**-20: log(x) by x-x^2/2+x^3/3-x^4/4
            t = ax - ONE;
            w = (t * t) * (0.5 - t * (0.3333333333333333333333 - t * 0.25));
            u = IVLN2_H * t;
            v = t * IVLN2_L - w * IVLN2;
            t1 = u + v;
            t1 = withLow(t1, 0);
            t2 = v - (t1 - u);
        } else {
            double ss, s2, sH, sL, tH, tL;
            n = 0;
            // subnormal x
            if (ix < 0x00100000) {
                ax *= TWO53;
                n -= 53;
                ix = hi(ax);
            }
            n += (ix >> 20) - 0x3ff;
            j = ix & 0x000fffff;
            // determine interval
            ix = j | 0x3ff00000; // normalize ix
            if (j <= 0x3988E) {
                k = 0; // |x| < sqrt(3/2)
            } else if (j < 0xBB67A) {
                k = 1; // |x| < sqrt(3)
            } else {
                k = 0;
                n += 1;
                ix -= 0x00100000;
            }
            ax = withHigh(ax, ix);

            // ss = s_h + s_l = (x-1)/(x+1) or (x-1.5)/(x+1.5)
            u = ax - BP[k];
            v = ONE / (ax + BP[k]);
            ss = u * v;
            sH = ss;
            sH = withLow(sH, 0);
            // t_h = ax + bp[k] High
            tH = ZERO;
            tH = withHigh(tH, ((ix >> 1) | 0x20000000) + 0x00080000 + (k << 18));
            tL = ax - (tH - BP[k]);
            sL = v * ((u - sH * tH) - sH * tL);
            // log(ax)
            s2 = ss * ss;
            r = s2 * s2 * (L1 + s2 * (L2 + s2 * (L3 + s2 * (L4 + s2 * (L5 + s2 * L6)))));
            r += sL * (sH + ss);
            s2 = sH * sH;
            tH = 3.0 + s2 + r;
            tH = withLow(tH, 0);
            tL = r - ((tH - 3.0) - s2);
            // u + v = ss * (1 + ...)
            u = sH * tH;
            v = sL * tH + tL * ss;
            // 2/(3log2) * (ss + ...)
            pH = u + v;
            pH = withLow(pH, 0);
            pL = v - (pH - u);
            zH = CP_H * pH;
            zL = CP_L * pH + pL * CP + DP_L[k];
            // log2(ax) = (ss + ..) * 2/(3*log2) = n + dp_h + z_h + z_l
            t = n;
            t1 = (((zH + zL) + DP_H[k]) + t);
            t1 = withLow(t1, 0);
            t2 = zL - (((t1 - t) - DP_H[k]) - zH);
        }

        // split y into y1 + y2 and compute (y1 + y2) * (t1 + t2)
        y1 = y;
        y1 = withLow(y1, 0);
        pL = (y - y1) * t1 + y * t2;
        pH = y1 * t1;
        z = pL + pH;
        j = hi(z);
        i = lo(z);
        if (j >= 0x40900000) { // z >= 1024
            if (((j - 0x40900000) | i) != 0) {
                return s * HUGE * HUGE; // overflow
            } else if (pL + OVT > z - pH) {
                return s * HUGE * HUGE; // overflow
            }
        } else if ((j & 0x7fffffff) >= 0x4090cc00) { // z <= -1075
            if (((j - 0xc090cc00) | i) != 0) {
                return s * TINY * TINY; // underflow
            } else if (pL <= z - pH) {
                return s * TINY * TINY; // underflow
            }
        }
        // 2**(p_h + p_l)
        i = j & 0x7fffffff;
        k = (i >> 20) - 0x3ff;
        n = 0;
        if (i > 0x3fe00000) { // |z| > 0.5: n = [z + 0.5]
            n = j + (0x00100000 >> (k + 1));
            k = ((n & 0x7fffffff) >> 20) - 0x3ff; // new k for n
            t = ZERO;
            t = withHigh(t, n & ~(0x000fffff >> k));
            n = ((n & 0x000fffff) | 0x00100000) >> (20 - k);
            if (j < 0) n = -n;
            pH -= t;
        }
        t = pL + pH;
        t = withLow(t, 0);
        u = t * LG2_H;
        v = (pL - (t - pH)) * LG2 + t * LG2_L;
        z = u + v;
        w = v - (z - u);
        t = z * z;
        t1 = z - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
        r = (z * t1) / ((t1 - TWO) - (w + z * w));
        z = ONE - (r - z);
        j = hi(z);
        j += n << 20;
        if ((j >> 20) <= 0) {
            z = Math.scalb(z, n); // subnormal output
        } else {
            z = withHigh(z, hi(z) + (n << 20));
        }
        return s * z;
    }
}
