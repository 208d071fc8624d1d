/**
 * Debian's Chromium for the browser tests (playwright-core drives it; Playwright's own browser
 * download cannot work on these machines). Uses $CHROMIUM_PATH, else /usr/bin/chromium; when
 * neither exists and this process runs as root (CI, these machines), installs Debian's package
 * first (`.ci/run` does the same ahead of the tests). Otherwise fails naming the package to install.
 */
import { execFile } from "node:child_process";
import { access } from "node:fs/promises";
import { promisify } from "node:util";

const exec = promisify(execFile);
const DEFAULT_PATH = "/usr/bin/chromium";

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

let installing: Promise<string> | undefined;

export const chromiumPath = (): Promise<string> => {
  installing ??= (async () => {
    const path = process.env["CHROMIUM_PATH"] ?? DEFAULT_PATH;
    if (await exists(path)) return path;
    if (process.getuid?.() !== 0) {
      throw new Error(`the browser tests need Chromium at ${path}: install Debian's package (apt-get install chromium) or set CHROMIUM_PATH`);
    }
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    await exec("apt-get", ["update", "-qq"], { env, maxBuffer: 1 << 26 });
    await exec("apt-get", ["install", "-y", "-qq", "--no-install-recommends", "chromium"], { env, maxBuffer: 1 << 26 });
    if (!(await exists(path))) throw new Error(`apt-get installed chromium, but ${path} does not exist`);
    return path;
  })();
  return installing;
};
