/**
 * Importing `weir` has no side effects beyond its own modules: Kafka (kafkajs, which Weir patches
 * to read producer epochs) loads only with `weir/kafka`, for the jobs that use it.
 */
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { repoRoot } from "./support/weir-process.ts";

/** Imports `specifier` in a fresh Node process (as a job module would) and lists the kafkajs modules loaded. */
const kafkajsModulesAfterImport = (specifier: string): string[] => {
  const script = `
    import { createRequire } from "node:module";
    await import(${JSON.stringify(specifier)});
    const cache = createRequire(import.meta.url).cache;
    console.log(JSON.stringify(Object.keys(cache).filter((k) => k.includes("/node_modules/kafkajs/"))));
  `;
  const out = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { cwd: repoRoot, encoding: "utf8" });
  return JSON.parse(out.trim().split("\n").at(-1)!) as string[];
};

describe("importing weir", () => {
  it("loads no kafkajs", () => {
    expect(kafkajsModulesAfterImport("weir")).toEqual([]);
  });

  it("weir/kafka loads kafkajs and its connector (so the check above can see it)", () => {
    const loaded = kafkajsModulesAfterImport("weir/kafka");
    expect(loaded.some((m) => m.endsWith("/kafkajs/index.js"))).toBe(true);
  });

  it("exports the Kafka connector only from weir/kafka", async () => {
    const root = await import("weir");
    const kafka = await import("weir/kafka");
    expect("fromKafka" in root).toBe(false);
    expect(typeof kafka.fromKafka).toBe("function");
    expect(typeof kafka.toKafka).toBe("function");
  });
});
