/**
 * How a function's code is bundled (esbuild), shared by the Lambda packages
 * (infra/constructs/lambda.ts) and the local runtime's bundles (local/lambda-bundle.ts). No
 * aws-cdk-lib here: the local runtime reads this without loading it.
 */

/** esbuild target matching the Lambda runtime (infra/constructs/lambda.ts LAMBDA_RUNTIME). */
export const ESBUILD_TARGET = "node24";

/** Package entry points preferred: ES modules first. */
export const ESBUILD_MAIN_FIELDS = ["module", "main"];

/**
 * Lets CommonJS dependencies call `require` (of Node built-ins) from the ESM bundle. The import
 * is aliased: a bundled module may itself import `createRequire`, and the banner is not renamed.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __kapaCreateRequire } from 'module'; const require = __kapaCreateRequire(import.meta.url);";
