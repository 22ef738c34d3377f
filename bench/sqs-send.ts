import { CreateQueueCommand, SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { startLocalSqs, useLocalAws } from "../local/sqs.js";
import { SQS_CLIENT_CONFIG } from "../shared/platform/sqs.js";
import { SqsApi } from "../shared/platform/sqs-api.js";
import { processCpuSeconds, report } from "./lib.js";

/** One chat's send: a SendMessageBatch of one classification request, held back 2 s. */
const chatSend = (queueUrl: string) => ({
  QueueUrl: queueUrl,
  Entries: [
    {
      Id: "0",
      MessageBody: JSON.stringify({ threadId: crypto.randomUUID(), reason: "new-thread", correlationId: "bench" }),
      DelaySeconds: 2,
    },
  ],
});

/**
 * `npm run bench sqs-send`: the CPU one SendMessageBatch costs the sending process, through the
 * SDK's SQSClient and through SqsApi (shared/platform/sqs-api.ts), to the SQS emulator in its own
 * process; sequential sends, the two clients alternating in rounds so they see the same machine.
 */
export async function benchSqsSend(sends = Number(process.env.BENCH_SQS_SENDS ?? 2000), rounds = 3): Promise<void> {
  const sqs = await startLocalSqs(0);
  useLocalAws({ sqs: sqs.endpoint });
  const sdk = new SQSClient(SQS_CLIENT_CONFIG);
  const api = new SqsApi();
  try {
    const { QueueUrl } = await sdk.send(new CreateQueueCommand({ QueueName: `bench-send-${process.pid}` }));
    const queueUrl = QueueUrl as string;
    const clients = {
      "SDK SQSClient": () => sdk.send(new SendMessageBatchCommand(chatSend(queueUrl))),
      SqsApi: () => api.sendMessageBatch(chatSend(queueUrl)),
    };
    const totals = new Map<string, { cpuMs: number; wallMs: number; emulatorMs: number; n: number }>();
    for (let round = 0; round < rounds; round++) {
      for (const [name, send] of Object.entries(clients)) {
        for (let i = 0; i < 100; i++) await send(); // warm-up
        const emulatorBefore = processCpuSeconds(sqs.pid);
        const cpu = process.cpuUsage();
        const started = performance.now();
        for (let i = 0; i < sends; i++) await send();
        const used = process.cpuUsage(cpu);
        const total = totals.get(name) ?? { cpuMs: 0, wallMs: 0, emulatorMs: 0, n: 0 };
        total.cpuMs += (used.user + used.system) / 1000;
        total.wallMs += performance.now() - started;
        total.emulatorMs += (processCpuSeconds(sqs.pid) - emulatorBefore) * 1000;
        total.n += sends;
        totals.set(name, total);
      }
    }
    const round3 = (x: number) => Math.round(x * 1000) / 1000;
    const rows = [...totals].map(([client, t]) => ({
      client,
      sends: t.n,
      cpu_ms_per_send: round3(t.cpuMs / t.n),
      wall_ms_per_send: round3(t.wallMs / t.n),
      emulator_cpu_ms_per_send: round3(t.emulatorMs / t.n),
    }));
    const [viaSdk, viaApi] = rows as [(typeof rows)[number], (typeof rows)[number]];
    report("sqs-send", rows, {
      results: rows,
      cpu_ratio_sqsapi_over_sdk: round3(viaApi.cpu_ms_per_send / viaSdk.cpu_ms_per_send),
    });
  } finally {
    sdk.destroy();
    api.destroy();
    await sqs.stop();
  }
}
