import { describe, expect, it } from "vitest";
import { BEGIN, END, replaceSection } from "./readme-section.ts";

describe("README section", () => {
  it("replaces only what is between the markers, idempotently", () => {
    const readme = `# X\n\n## Performance\n\n${BEGIN}\nold\n${END}\n\n## Layout\n`;
    const once = replaceSection(readme, "new table\n");
    expect(once).toBe(`# X\n\n## Performance\n\n${BEGIN}\nnew table\n${END}\n\n## Layout\n`);
    expect(replaceSection(once, "new table")).toBe(once);
  });
  it("refuses a README without both markers, with a marker twice, or in the wrong order", () => {
    expect(() => replaceSection("# X\n", "t")).toThrow(/exactly once/);
    expect(() => replaceSection(`${BEGIN}${BEGIN}${END}`, "t")).toThrow(/exactly once/);
    expect(() => replaceSection(`${END}\n${BEGIN}`, "t")).toThrow(/comes before/);
  });
});
