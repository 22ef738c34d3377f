import { afterAll, inject } from "vitest";
import { closeRuntime } from "../../shared/runtime.js";

// Handlers build their runtime from the environment, as in Lambda: point it at the test database.
const database = inject("database");
process.env.DATABASE_URL = database.url;
process.env.KAPA_EMBEDDED_DB = database.embedded ? "1" : "";
process.env.LLM_DELAY_MS = "0";
process.env.LOG_LEVEL = "silent";

afterAll(() => closeRuntime());
