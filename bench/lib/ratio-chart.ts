/** A small dependency-free SVG bar chart of the like-for-like ratios per query, with the 1.0 line. */
export interface RatioSeries {
  readonly label: string;
  readonly color: string;
  /** One ratio per query (null: not measured). */
  readonly values: readonly (number | null)[];
}

const escape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");

export const ratioChart = (queries: readonly string[], series: readonly RatioSeries[], title: string): string => {
  const width = 720;
  const height = 380;
  const left = 50;
  const bottom = 60;
  const top = 40;
  const plotH = height - top - bottom;
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const max = Math.max(1.2, ...all) * 1.1;
  const y = (v: number) => top + plotH - (v / max) * plotH;
  const slot = (width - left - 20) / Math.max(1, queries.length);
  const barW = (slot * 0.7) / Math.max(1, series.length);
  const bars = queries
    .flatMap((q, i) => [
      ...series.map((s, j) => {
        const v = s.values[i] ?? null;
        const x = left + i * slot + slot * 0.15 + j * barW;
        const h = v === null ? 0 : top + plotH - y(v);
        return `<rect x="${x.toFixed(1)}" y="${(top + plotH - h).toFixed(1)}" width="${(barW * 0.9).toFixed(1)}" height="${h.toFixed(1)}" fill="${v === null ? "#bbb" : s.color}"/><text x="${(x + barW * 0.45).toFixed(1)}" y="${(top + plotH - h - 4).toFixed(1)}" font-size="10" text-anchor="middle">${v === null ? "n/a" : v.toFixed(2)}</text>`;
      }),
      `<text x="${(left + i * slot + slot / 2).toFixed(1)}" y="${height - bottom + 16}" font-size="13" text-anchor="middle">${escape(q)}</text>`,
    ])
    .join("\n");
  const ticks = [0, 0.5, 1, 1.5, 2, 3, 4, 5, 10]
    .filter((t) => t <= max)
    .map((t) => `<line x1="${left}" x2="${width - 20}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="${t === 1 ? "#333" : "#ddd"}" stroke-dasharray="${t === 1 ? "6 4" : ""}"/><text x="${left - 6}" y="${(y(t) + 4).toFixed(1)}" font-size="11" text-anchor="end">${t}</text>`)
    .join("\n");
  const legend = series
    .map((s, j) => `<rect x="${left + j * 250}" y="${height - 22}" width="12" height="12" fill="${s.color}"/><text x="${left + j * 250 + 18}" y="${height - 12}" font-size="12">${escape(s.label)}</text>`)
    .join("\n");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${width / 2}" y="22" font-size="15" text-anchor="middle">${escape(title)}</text>
${ticks}
${bars}
${legend}
<text x="14" y="${top + plotH / 2}" font-size="12" transform="rotate(-90 14 ${top + plotH / 2})" text-anchor="middle">events/s ratio (above 1: Weir faster)</text>
</svg>
`;
};
