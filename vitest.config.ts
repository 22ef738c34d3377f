import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // `npm run test:reliability` runs these.
    exclude: ["test/reliability/**", "**/node_modules/**"],
    globalSetup: ["test/support/global-setup.ts"],
    setupFiles: ["test/support/setup-env.ts", "test/support/openapi-check.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // vitest's default is one less than the cores: one worker on 2 cores. Most files wait on
    // their local runtime, queues and database (each worker has an embedded database of its own,
    // test/support/global-setup.ts), so three overlap those waits.
    maxWorkers: 3,
  },
});
