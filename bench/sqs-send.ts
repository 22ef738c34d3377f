import { CreateQueueCommand, SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { startLocalSqs, useLocalAws } from "../local/sqs.js";
import { createSqsClient } from "../shared/platform/sqs-eager-client.js";
import { sqsClientConfig } from "../shared/platform/sqs-sender.js";
import { processCpuSeconds, report } from "./lib.js";

/** One chat's send: a SendMessageBatch of one classification request, held back 2 s. */
const chatSend = (queueUrl: string) => ({
  QueueUrl: queueUrl,
  Entries: [
    {
      Id: "0",
      MessageBody: JSON.stringify({
        threadId: crypto.randomUUID(),
        projectId: "00000000-0000-4000-8000-000000000000",
        reason: "new-thread",
        correlationId: "bench",
      }),
      MessageGroupId: "00000000-0000-4000-8000-000000000000",
      DelaySeconds: 2,
    },
  ],
});

/**
 * `npm run bench sqs-send`: the CPU one SendMessageBatch costs the sending process through the
 * SDK's SQSClient as every process builds it (shared/platform/sqs-sender.ts), and the same without the
 * MD5 checks of what SQS received, to the SQS emulator in its own process; sequential sends, the
 * two alternating in rounds so they see the same machine.
 */
export async function benchSqsSend(sends = Number(process.env.BENCH_SQS_SENDS ?? 2000), rounds = 3): Promise<void> {
  const sqs = await startLocalSqs(0);
  useLocalAws({ sqs: sqs.endpoint });
  const sdk = createSqsClient();
  const noMd5 = new SQSClient({ ...sqsClientConfig(), md5: false });
  try {
    const { QueueUrl } = await sdk.send(new CreateQueueCommand({ QueueName: `bench-send-${process.pid}` }));
    const queueUrl = QueueUrl as string;
    const clients = {
      "SDK, our settings": () => sdk.send(new SendMessageBatchCommand(chatSend(queueUrl))),
      "SDK, md5 off": () => noMd5.send(new SendMessageBatchCommand(chatSend(queueUrl))),
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
    const [withMd5, withoutMd5] = rows as [(typeof rows)[number], (typeof rows)[number]];
    report("sqs-send", rows, {
      results: rows,
      md5_cpu_ms_per_send: round3(withMd5.cpu_ms_per_send - withoutMd5.cpu_ms_per_send),
    });
  } finally {
    sdk.destroy();
    noMd5.destroy();
    await sqs.stop();
  }
}
