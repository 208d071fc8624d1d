/**
 * The Flink side of the comparison (bench/flink): building the program, its JVM arguments, and
 * the generator check — `dump --events N --seed S --parallelism P` must print, for each of the P
 * splits, exactly Weir's events of counts k, k+P, ... in order (NEXMARK-SPEC §1, §5).
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { generateEvent, nexmarkConfig } from "../../connectors/nexmark/index.ts";

export const flinkDir = (root: string) => join(root, "bench", "flink");
export const flinkJar = (root: string) => join(flinkDir(root), "target", "weir-nexmark-flink.jar");

export const jvmArgs = (root: string): string[] =>
  readFileSync(join(flinkDir(root), "jvm-args.txt"), "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));

export const buildFlink = (root: string, log: (line: string) => void): void => {
  log("building bench/flink (Maven fetches Flink on the first run) ...");
  execFileSync("mvn", ["-q", "-f", join(flinkDir(root), "pom.xml"), "-DskipTests", "package"], { stdio: ["ignore", "inherit", "inherit"] });
  if (!existsSync(flinkJar(root))) throw new Error(`Maven did not produce ${flinkJar(root)}`);
};

export class GeneratorMismatch extends Error {}

/**
 * Checks `dump` output: one JSON object per line with the event's `split` and `count` and the
 * event itself (as `event`, or as the line's other fields). Every count below `events` must
 * appear once, in its split k = count mod P, in rising order within the split, and equal Weir's
 * event. Throws GeneratorMismatch naming the first bad line; returns a one-line summary.
 */
export const checkDump = (output: string, options: { events: number; seed: number; parallelism: number }): string => {
  const config = nexmarkConfig({ seed: options.seed });
  const lines = output.split("\n").filter((l) => l.trimStart().startsWith("{"));
  if (lines.length !== options.events) throw new GeneratorMismatch(`flink dump printed ${lines.length} events, expected ${options.events}`);
  const lastOfSplit = new Map<number, number>();
  const seen = new Set<number>();
  lines.forEach((line, i) => {
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new GeneratorMismatch(`flink dump line ${i + 1} is not JSON: ${line.slice(0, 200)}`);
    }
    const { split, count, event, ...rest } = parsed;
    if (typeof split !== "number" || typeof count !== "number") throw new GeneratorMismatch(`flink dump line ${i + 1} has no numeric split and count: ${line.slice(0, 200)}`);
    const theirs = event ?? rest;
    if (count % options.parallelism !== split) throw new GeneratorMismatch(`flink dump line ${i + 1}: count ${count} is in split ${split}, expected ${count % options.parallelism}`);
    if (count >= options.events || seen.has(count)) throw new GeneratorMismatch(`flink dump line ${i + 1}: count ${count} is out of range or repeated`);
    if ((lastOfSplit.get(split) ?? -1) >= count) throw new GeneratorMismatch(`flink dump line ${i + 1}: split ${split} is not in count order at ${count}`);
    lastOfSplit.set(split, count);
    seen.add(count);
    const mine = generateEvent(config.firstEventId + count, config);
    if (!isDeepStrictEqual(JSON.parse(JSON.stringify(mine)), theirs)) {
      throw new GeneratorMismatch(`generator mismatch at count ${count} (split ${split}):\n weir  ${JSON.stringify(mine)}\n flink ${JSON.stringify(theirs)}`);
    }
  });
  return `${options.events}/${options.events} events equal on ${options.parallelism} interleaved splits (seed ${options.seed})`;
};

export const checkGenerators = (root: string, options: { events: number; seed: number; parallelism: number }): string => {
  const out = execFileSync(
    "java",
    [...jvmArgs(root), "-jar", flinkJar(root), "dump", "--events", String(options.events), "--seed", String(options.seed), "--parallelism", String(options.parallelism)],
    { maxBuffer: 256 * 1024 * 1024 },
  ).toString();
  return checkDump(out, options);
};
