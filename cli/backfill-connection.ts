import { SFNClient } from "@aws-sdk/client-sfn";
import { SQSClient } from "@aws-sdk/client-sqs";
import { findRunningLocalBackfill, startLocalBackfill } from "../local/backfill.js";
import type { LocalDatabase } from "../local/database.js";
import { deviationsFromEnv } from "../local/settings.js";
import { startLocalSqs, useLocalAws } from "../local/sqs.js";
import type { Executions } from "../shared/backfill/executions.js";
import { createSfnExecutions } from "../shared/backfill/sfn.js";
import { closeRuntime } from "../shared/composition/runtime.js";
import type { Env } from "../shared/platform/config.js";
import { createSqsClient } from "../shared/platform/sqs-eager-client.js";

/**
 * Where `npx kapa backfill` runs a job: Step Functions in AWS, the local Step Functions of a
 * running `npm start`, or (`start` only) the whole backfill in this process.
 */
export interface Connection {
  where: string;
  executions: Executions;
  queues: { sqs: SQSClient; queueUrl: string; dlqUrl: string | null } | null;
  /** Executions run in this process: watch until done, then stop. */
  inProcess: boolean;
  close(): Promise<void>;
}

const localCredentials = { accessKeyId: "local", secretAccessKey: "local" };

/** Step Functions and the backfill queues of AWS, or of a running `npm start`; null when neither. */
export function connectExisting(env: Env): Connection | null {
  if (env.BACKFILL_STATE_MACHINE_ARN) {
    const sqs = createSqsClient();
    return {
      where: `Step Functions ${env.BACKFILL_STATE_MACHINE_ARN}`,
      executions: createSfnExecutions(env.BACKFILL_STATE_MACHINE_ARN),
      queues: env.BACKFILL_QUEUE_URL
        ? { sqs, queueUrl: env.BACKFILL_QUEUE_URL, dlqUrl: env.BACKFILL_DLQ_URL ?? null }
        : null,
      inProcess: false,
      close: async () => sqs.destroy(),
    };
  }
  const local = findRunningLocalBackfill(env.DATA_DIR);
  if (!local) return null;
  const region = process.env.AWS_REGION ?? "us-east-1";
  const sfn = new SFNClient({ endpoint: local.sfnEndpoint, region, credentials: localCredentials });
  const sqs = new SQSClient({
    endpoint: local.sqsEndpoint,
    region,
    credentials: localCredentials,
    useQueueUrlAsEndpoint: false,
  });
  return {
    where: `the local Step Functions of npm start (${local.sfnEndpoint})`,
    executions: createSfnExecutions(local.stateMachineArn, sfn),
    queues: { sqs, queueUrl: local.queueUrl, dlqUrl: local.dlqUrl },
    inProcess: false,
    async close() {
      sfn.destroy();
      sqs.destroy();
    },
  };
}

/** The whole backfill in this process, on `database`: what `start` does without npm start. */
export async function startInProcess(database: LocalDatabase, env: Env): Promise<Connection> {
  // The handlers run here and build their runtime from the environment, as in Lambda.
  process.env.DATABASE_URL = database.target.url;
  process.env.KAPA_EMBEDDED_DB = database.target.embedded ? "1" : "";
  const sqsServer = await startLocalSqs(0);
  useLocalAws({ sqs: sqsServer.endpoint });
  const backfill = await startLocalBackfill({
    env,
    visibilityTimeoutSeconds: deviationsFromEnv().visibilityTimeoutSeconds,
    dataDir: env.DATA_DIR,
    sfnPort: 0,
  });
  const sqs = createSqsClient();
  return {
    where: `this process (classifier on the backfill queue as the template maps it, ${env.CLASSIFIER_DELAY_MS} ms each)`,
    executions: createSfnExecutions(backfill.stateMachineArn),
    queues: { sqs, queueUrl: backfill.queueUrl, dlqUrl: backfill.dlqUrl },
    inProcess: true,
    async close() {
      sqs.destroy();
      await backfill.stop();
      await closeRuntime();
      await sqsServer.stop();
    },
  };
}
