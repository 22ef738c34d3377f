import { startLocalSqs } from "../local/sqs.js";

/**
 * The local SQS emulator in a process of its own (benchmarks): its memory (every message sent)
 * is not the runner's. Prints `{"endpoint": ...}` once listening; stops with stdin or a signal.
 */
const server = await startLocalSqs(0);
process.stdout.write(`${JSON.stringify({ endpoint: server.endpoint })}\n`);
const stop = () => void server.stop().then(() => process.exit(0));
process.stdin.on("end", stop);
process.stdin.resume();
process.on("SIGTERM", stop);
