import { defineConfig } from "vitest/config";

/** `npm run test:reliability`: fault injection, the tenant isolation matrix, fuzzing and load. */
export default defineConfig({
  test: {
    include: ["test/reliability/**/*.test.ts"],
    globalSetup: ["test/support/global-setup.ts"],
    setupFiles: ["test/support/setup-env.ts", "test/support/openapi-check.ts"],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    pool: "forks",
    fileParallelism: false,
  },
});
