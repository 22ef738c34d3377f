import { afterAll, inject } from "vitest";
import { useLocalAws } from "../../local/sqs.js";
import { closeRuntime } from "../../shared/composition/runtime.js";
import { testDatabase } from "./database.js";
import { createTestQueue } from "./sqs.js";

// Handlers build their runtime from the environment, as in Lambda: point it at the test database
// and at a live classification queue of this file's own on the local SQS emulator.
const database = testDatabase();
process.env.DATABASE_URL = database.url;
process.env.KAPA_EMBEDDED_DB = database.embedded ? "1" : "";
process.env.LLM_DELAY_MS = "0";
process.env.CLASSIFIER_DELAY_MS = "0";
process.env.LOG_LEVEL = "silent";
useLocalAws({ sqs: inject("sqsEndpoint") });
process.env.CLASSIFICATION_QUEUE_URL = (await createTestQueue("live")).queueUrl;

afterAll(() => closeRuntime());
