import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { FAILPOINTS } from "./failpoints.ts";

const repoRoot = fileURLToPath(new URL("..", import.meta.url));
const failpointsUrl = pathToFileURL(fileURLToPath(new URL("./failpoints.ts", import.meta.url))).href;

let dir: string;
let script: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "weir-failpoints-"));
  script = join(dir, "three-acks.ts");
  // Writes synchronously to fd 1 so every line printed before the kill reaches the pipe.
  writeFileSync(
    script,
    [
      `import { writeSync } from "node:fs";`,
      `import { failpoint } from ${JSON.stringify(failpointsUrl)};`,
      `for (let i = 1; i <= 3; i++) {`,
      `  failpoint("after-ack");`,
      `  writeSync(1, "after ack " + i + "\\n");`,
      `}`,
    ].join("\n"),
  );
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const runChild = (failpointEnv: string | undefined) => {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.WEIR_FAILPOINT;
  if (failpointEnv !== undefined) env.WEIR_FAILPOINT = failpointEnv;
  const result = spawnSync(process.execPath, ["--import", "tsx", script], { cwd: repoRoot, env, encoding: "utf8", timeout: 30_000 });
  if (result.error !== undefined) throw result.error;
  return result;
};

describe("failpoint", () => {
  it("lists the after-ack step", () => {
    expect(FAILPOINTS).toContain("after-ack");
  });

  it("is a no-op when WEIR_FAILPOINT is unset: all three lines, exit 0", () => {
    const r = runChild(undefined);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("after ack 1\nafter ack 2\nafter ack 3\n");
    expect(r.signal).toBeNull();
    expect(r.status).toBe(0);
  });

  it("with after-ack@2 kills the process with SIGKILL at the second call, after exactly one line", () => {
    const r = runChild("after-ack@2");
    expect(r.stdout).toBe("after ack 1\n");
    expect(r.signal).toBe("SIGKILL");
    expect(r.status).toBeNull();
    expect(r.stderr).toContain("failpoint 'after-ack' reached");
  });

  it("with a bare name kills at the first call, before any line", () => {
    const r = runChild("after-ack");
    expect(r.stdout).toBe("");
    expect(r.signal).toBe("SIGKILL");
  });

  it("ignores calls to other failpoints", () => {
    const r = runChild("mid-commit@1");
    expect(r.stdout).toBe("after ack 1\nafter ack 2\nafter ack 3\n");
    expect(r.status).toBe(0);
  });

  it("does not fire when the count is never reached", () => {
    const r = runChild("after-ack@4");
    expect(r.stdout).toBe("after ack 1\nafter ack 2\nafter ack 3\n");
    expect(r.status).toBe(0);
  });
});
