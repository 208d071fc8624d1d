/** A small dependency-free SVG bar chart of Weir/Flink ratios per query, with the 1.0 line. */
export interface RatioRow {
  readonly query: string;
  readonly ratio: number | null;
}

const escape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");

export const ratioChart = (rows: readonly RatioRow[], title: string): string => {
  const width = 640;
  const height = 360;
  const left = 50;
  const bottom = 40;
  const top = 40;
  const plotH = height - top - bottom;
  const max = Math.max(1.2, ...rows.map((r) => r.ratio ?? 0)) * 1.1;
  const y = (v: number) => top + plotH - (v / max) * plotH;
  const slot = (width - left - 20) / Math.max(1, rows.length);
  const bars = rows
    .map((r, i) => {
      const x = left + i * slot + slot * 0.2;
      const w = slot * 0.6;
      const v = r.ratio ?? 0;
      const label = r.ratio === null ? "n/a" : r.ratio.toFixed(2);
      const color = r.ratio === null ? "#bbb" : r.ratio >= 1 ? "#2a9d8f" : "#e76f51";
      return [
        `<rect x="${x.toFixed(1)}" y="${y(v).toFixed(1)}" width="${w.toFixed(1)}" height="${(top + plotH - y(v)).toFixed(1)}" fill="${color}"/>`,
        `<text x="${(x + w / 2).toFixed(1)}" y="${(y(v) - 5).toFixed(1)}" font-size="12" text-anchor="middle">${label}</text>`,
        `<text x="${(x + w / 2).toFixed(1)}" y="${height - bottom + 18}" font-size="13" text-anchor="middle">${escape(r.query)}</text>`,
      ].join("");
    })
    .join("\n");
  const ticks = [0, 0.5, 1, 1.5, 2, 3, 4, 5]
    .filter((t) => t <= max)
    .map((t) => `<line x1="${left}" x2="${width - 20}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="${t === 1 ? "#333" : "#ddd"}" stroke-dasharray="${t === 1 ? "6 4" : ""}"/><text x="${left - 6}" y="${(y(t) + 4).toFixed(1)}" font-size="11" text-anchor="end">${t}</text>`)
    .join("\n");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${width / 2}" y="22" font-size="15" text-anchor="middle">${escape(title)}</text>
${ticks}
${bars}
<text x="14" y="${top + plotH / 2}" font-size="12" transform="rotate(-90 14 ${top + plotH / 2})" text-anchor="middle">events/s ratio (higher is better for Weir)</text>
</svg>
`;
};
