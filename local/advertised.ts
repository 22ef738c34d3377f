import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isAlive } from "./embedded-db.js";

/**
 * What `npm start` records in DATA_DIR/local-backfill.json for `npx kapa backfill`: the
 * endpoints of its SQS and Step Functions and the backfill's resources there, so that the CLI
 * talks to the running world through the AWS SDK clients, as it talks to AWS.
 */
export interface AdvertisedBackfill {
  pid: number;
  sqsEndpoint: string;
  queueUrl: string;
  dlqUrl: string;
  sfnEndpoint: string;
  stateMachineArn: string;
}

const stateFile = (dataDir: string) => join(dataDir, "local-backfill.json");

/** Records where this process's backfill is; returns the undo. */
export function advertiseLocalBackfill(dataDir: string, state: Omit<AdvertisedBackfill, "pid">): () => void {
  writeFileSync(stateFile(dataDir), JSON.stringify({ ...state, pid: process.pid }));
  return () => rmSync(stateFile(dataDir), { force: true });
}

/** The backfill a running `npm start` advertises in DATA_DIR, if any. */
export function findRunningLocalBackfill(dataDir: string): AdvertisedBackfill | null {
  try {
    const state = JSON.parse(readFileSync(stateFile(dataDir), "utf8")) as AdvertisedBackfill;
    return isAlive(state.pid) ? state : null;
  } catch {
    return null;
  }
}
