import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "**/*.test.ts"],
    exclude: ["node_modules/**", "out/**", ".weir/**"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    // One real Kafka broker (from Maven Central jars, Java 17, loopback) for the Kafka tests.
    globalSetup: ["kafka/global-setup.ts"],
    typecheck: {
      enabled: true,
      include: ["test/**/*.test-d.ts"],
      tsconfig: "./tsconfig.json",
    },
  },
});
