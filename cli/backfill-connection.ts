import { SFNClient } from "@aws-sdk/client-sfn";
import { SQSClient } from "@aws-sdk/client-sqs";
import {
  type AdvertisedBackfill,
  findRunningLocalBackfill,
  type LocalDatabase,
  startBackfillWorld,
} from "../local/operator.js";
import type { Executions } from "../shared/backfill/executions.js";
import { createSfnExecutions } from "../shared/backfill/sfn.js";
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
  return local ? connectLocal(local, `the local Step Functions of npm start (${local.sfnEndpoint})`) : null;
}

/** The SDK clients of AWS, pointed at a local world's endpoints. */
function connectLocal(local: Omit<AdvertisedBackfill, "pid">, where: string): Connection {
  const region = process.env.AWS_REGION ?? "us-east-1";
  const sfn = new SFNClient({ endpoint: local.sfnEndpoint, region, credentials: localCredentials });
  const sqs = new SQSClient({
    endpoint: local.sqsEndpoint,
    region,
    credentials: localCredentials,
    useQueueUrlAsEndpoint: false,
  });
  return {
    where,
    executions: createSfnExecutions(local.stateMachineArn, sfn),
    queues: { sqs, queueUrl: local.queueUrl, dlqUrl: local.dlqUrl },
    inProcess: false,
    async close() {
      sfn.destroy();
      sqs.destroy();
    },
  };
}

/** The local world, as npm start builds it, in this process, on `database`: what `start` does without npm start. */
export async function startInProcess(database: LocalDatabase, env: Env): Promise<Connection> {
  const world = await startBackfillWorld(database.target, env);
  const connection = connectLocal(
    world,
    `this process (the local world's classifier on the backfill queue, ${env.CLASSIFIER_DELAY_MS} ms each)`,
  );
  return {
    ...connection,
    inProcess: true,
    async close() {
      await connection.close();
      await world.stop();
    },
  };
}
