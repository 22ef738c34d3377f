import { readdirSync } from "node:fs";
import { defineConfig } from "vitest/config";

const setupFiles = ["test/support/setup-env.ts", "test/support/openapi-check.ts"];

/**
 * Files that run one after another in a reused worker (`isolate: false`): they start no local
 * world and leave no state behind, so a worker's module cache (aws-cdk-lib, the infra code, the
 * composition root of setup-env.ts) and the stacks test/infra/support.ts synthesized serve the
 * next file instead of being loaded again in a new process.
 */
const sharedWorkerFiles = ["test/unit/**/*.test.ts", "test/infra/**/*.test.ts"];
/**
 * The folders the two projects below name. A test file in any other folder would run in neither
 * (vitest does not complain), so a new folder must be added here and to a project.
 */
const KNOWN_TEST_FOLDERS = new Set(["unit", "infra", "integration", "e2e", "reliability", "support"]);
const unknownFolders = readdirSync("test", { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && !KNOWN_TEST_FOLDERS.has(entry.name))
  .map((entry) => entry.name);
if (unknownFolders.length > 0)
  throw new Error(`test/${unknownFolders.join(", test/")}: add the folder to a project in vitest.config.ts`);

/** They mock modules or reset the module registry: in a reused worker that would reach the other files. */
const ownProcessUnitFiles = ["test/unit/migrate.test.ts", "test/unit/lambda-context.test.ts"];

export default defineConfig({
  test: {
    // One run for both projects: the databases and the queue emulator are set up once.
    globalSetup: ["test/support/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // vitest's default is one less than the cores: one worker on 2 cores. Most files wait on
    // their local runtime, queues and database (each worker has an embedded database of its own,
    // test/support/global-setup.ts), so three overlap those waits.
    maxWorkers: 3,
    // Projects run in the order of their names: the long files with a process each first.
    projects: [
      {
        extends: true,
        test: {
          name: "isolated",
          // `npm run test:reliability` runs test/reliability.
          include: ["test/integration/**/*.test.ts", "test/e2e/**/*.test.ts", ...ownProcessUnitFiles],
          setupFiles,
        },
      },
      {
        extends: true,
        test: {
          name: "shared",
          include: sharedWorkerFiles,
          exclude: ["**/node_modules/**", ...ownProcessUnitFiles],
          setupFiles,
          isolate: false,
        },
      },
    ],
  },
});
