import { defineConfig } from "vitest/config";

/** Files that start `npm start` (tsx, a JVM, sometimes Chromium) as real processes. */
const E2E = ["test/**/*.e2e.test.ts", "test/**/*.browser.test.ts"];

export default defineConfig({
  test: {
    globalSetup: ["test/setup/global-dynamodb.ts"],
    setupFiles: ["test/setup/polyfills.ts", "test/setup/reactors.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // On a 2-core machine the end-to-end files' process start-ups would starve the shared DynamoDB
    // Local that the integration files talk to (2 s request timeouts turning into 503s). So the
    // unit and integration files run first, in parallel; then the end-to-end files, one at a time.
    projects: [
      {
        extends: true,
        test: {
          name: "unit+int",
          include: ["test/**/*.test.ts"],
          exclude: E2E,
          sequence: { groupOrder: 0 },
        },
      },
      { extends: true, test: { name: "e2e", include: E2E, sequence: { groupOrder: 1 }, maxWorkers: 1 } },
    ],
  },
});
