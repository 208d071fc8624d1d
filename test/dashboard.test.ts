/**
 * The dashboard in a real browser (Debian's Chromium driven by playwright-core) against a real
 * `weir run`: it shows the running job's operators and graph, its rates move, a completed
 * checkpoint appears in the history, and the Stop button stops the job, which the page then shows
 * as finished. Assertions read what the page shows (text and attributes), not screenshots.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumPath } from "./support/chromium.ts";
import { committedLines, runOrKill, startWeir } from "./support/weir-process.ts";

let tmp: string;
let browser: Browser;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "weir-dashboard-"));
  browser = await chromium.launch({ executablePath: await chromiumPath(), args: ["--headless=new", "--no-sandbox", "--disable-gpu"] });
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await rm(tmp, { recursive: true, force: true });
});

const args = (out: string, checkpoints: string) => [
  "run",
  "jobs/account-totals.ts",
  "--param",
  "events=60000",
  "--param",
  "accounts=50",
  "--param",
  "rate=5000",
  "--param",
  `out=${out}`,
  "--checkpoint-dir",
  checkpoints,
  "--checkpoint-interval",
  "300ms",
  "--parallelism",
  "2",
  "--no-progress",
  "--ui-port",
  "0",
];

describe("the dashboard", () => {
  it("shows the running job's graph, moving rates and checkpoints, and a job stopped from it as finished", async () => {
    const out = join(tmp, "out");
    const env = { WEIR_RUNTIME_DIR: join(tmp, "rt") };
    const run = startWeir(args(out, join(tmp, "chk")), env);
    const deadline = Date.now() + 30_000;
    let m: RegExpExecArray | null = null;
    while (m === null && Date.now() < deadline) {
      m = /REST API and dashboard at (http:\/\/\S+) /.exec(run.stderr());
      if (m === null) await new Promise((r) => setTimeout(r, 50));
    }
    expect(m, run.stderr()).not.toBeNull();
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(m![1]!);

    await expect.poll(() => page.getByTestId("job-name").textContent(), { timeout: 10_000 }).toBe("account-totals");
    await expect.poll(() => page.getByTestId("job-state").textContent(), { timeout: 10_000 }).toBe("RUNNING");
    // The operators, in the table and as the graph's boxes, with the edge's partitioning.
    const rows = page.locator('[data-testid="vertices"] tbody tr');
    expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-vertex")))).toEqual(["transactions-0", "running-total -> totals"]);
    const graph = page.getByTestId("job-graph");
    expect(await graph.locator("g.vertex").evaluateAll((gs) => gs.map((g) => g.getAttribute("data-vertex")))).toEqual(["transactions-0", "running-total -> totals"]);
    expect(await graph.locator(".edge-label").textContent()).toBe("HASH");

    // The rates move: the source's records out grow between two looks.
    const recordsOut = async () => Number((await page.locator('tr[data-vertex="transactions-0"] [data-testid="records-out"]').textContent())!.replace(/,/g, ""));
    const first = await recordsOut();
    await expect.poll(recordsOut, { timeout: 10_000 }).toBeGreaterThan(first);
    expect(["ok", "low", "high"]).toContain(await page.locator('tr[data-vertex="running-total -> totals"] [data-testid="backpressure"]').textContent());

    // A completed checkpoint appears in the history.
    await expect.poll(() => page.locator('[data-testid="checkpoint-status"]').allTextContents(), { timeout: 15_000 }).toContain("COMPLETED");
    expect(await page.getByTestId("checkpoint-counts").textContent()).toMatch(/^[1-9]\d* completed/);
    await expect.poll(() => page.locator('svg[data-testid="checkpoint-chart"] polyline').count(), { timeout: 15_000 }).toBe(2);
    expect(await page.getByTestId("exceptions").textContent()).toBe("No exceptions.");

    // Stop from the page: it reports the final checkpoint and shows the job as finished.
    await page.getByTestId("stop").click();
    await expect.poll(() => page.getByTestId("job-state").textContent(), { timeout: 20_000 }).toBe("FINISHED");
    expect(await page.getByTestId("notice").textContent()).toMatch(/^Stopped at .*chk-\d+; the same weir run command resumes it\.$/);
    const exit = await run.exited;
    expect(exit.code, exit.stderr).toBe(0);
    expect(exit.stderr).toContain("stop requested through the REST API");
    await expect.poll(() => page.getByTestId("gone").count(), { timeout: 10_000 }).toBe(1);
    expect(errors).toEqual([]);

    // Resumed by the same command, the output is the whole input's, exactly once.
    const last = await runOrKill([...args(out, join(tmp, "chk")).filter((a) => a !== "--ui-port" && a !== "0"), "--no-ui"], undefined, env);
    expect(last.code, last.stderr).toBe(0);
    expect(await committedLines(out)).toHaveLength(60_000);
  }, 120_000);
});
