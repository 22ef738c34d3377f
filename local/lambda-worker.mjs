// A local Lambda environment's entry (local/lambda-pool.ts): TypeScript support, then the worker.
import { register } from "tsx/esm/api";

register();
await import("./lambda-worker.ts");
