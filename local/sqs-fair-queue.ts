import type { FastifyInstance } from "fastify";

/**
 * Fair-queue delivery for the local SQS emulator's standard queues (docs/architecture.md, "Fair
 * queues"). fauxqs 2.4 keeps a standard queue as one array in arrival order and drops the
 * MessageGroupId of a standard queue's messages; this module, loaded in the emulator's process,
 * keeps the group id and reorders what a ReceiveMessage takes:
 *
 * - a group is noisy when it holds at least NOISY_IN_FLIGHT messages in flight and more than
 *   NOISY_SHARE of the queue's in-flight messages (AWS's concurrency share), or when it got more
 *   than NOISY_SHARE of the queue's last RECENT_WINDOW deliveries (our stand-in for AWS's share of
 *   consumer processing time, counted in messages rather than measured in time);
 * - a receive takes the ready messages of quiet groups first (in arrival order), then those of
 *   noisy groups, the group with the fewest messages in flight first;
 * - a message without a group is a group of its own (never noisy); a queue whose messages all
 *   belong to one group, or without any noisy group, is a plain standard queue.
 *
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-fair-queues-detailed.html
 */
export const FAIR_QUEUE_RULE = { NOISY_IN_FLIGHT: 30, NOISY_SHARE: 0.1, RECENT_WINDOW: 100 } as const;

/** The parts of fauxqs's message and queue (dist/sqs/sqsStore.js) this module reads and reorders. */
interface StoredMessage {
  body: string;
  messageGroupId?: string;
}
type DlqResolver = (arn: string) => { enqueue(message: StoredMessage): void } | undefined;
interface StandardQueue {
  messages: StoredMessage[];
  inflightMessages: Map<string, { message: StoredMessage }>;
  isFifo(): boolean;
  processTimers(): void;
  enqueue(message: StoredMessage): void;
  dequeue(maxCount: number, visibilityTimeout: number | undefined, dlq?: DlqResolver): { ReceiptHandle: string }[];
}
interface QueueClass {
  prototype: StandardQueue;
}

/** What this module remembers of a queue between receives. */
interface QueueState {
  /** The groups of the last RECENT_WINDOW deliveries (a ring). */
  recent: (string | undefined)[];
  next: number;
  /** messages[0, noisyPrefix) are all of the groups in `noisyKey` (a receive need not look at them again). */
  scanned: { messages: StoredMessage[]; noisyKey: string; noisyPrefix: number } | undefined;
}

const states = new WeakMap<StandardQueue, QueueState>();
const stateOf = (queue: StandardQueue): QueueState => {
  const known = states.get(queue);
  if (known) return known;
  const state: QueueState = { recent: [], next: 0, scanned: undefined };
  states.set(queue, state);
  return state;
};

/** Noisy groups, in the order their messages are taken: fewest in flight first. */
function noisyGroups(queue: StandardQueue, state: QueueState): string[] {
  const { NOISY_IN_FLIGHT, NOISY_SHARE } = FAIR_QUEUE_RULE;
  const inFlight = new Map<string, number>();
  for (const { message } of queue.inflightMessages.values()) {
    const group = message.messageGroupId;
    if (group !== undefined) inFlight.set(group, (inFlight.get(group) ?? 0) + 1);
  }
  const delivered = new Map<string, number>();
  for (const group of state.recent) if (group !== undefined) delivered.set(group, (delivered.get(group) ?? 0) + 1);
  const total = queue.inflightMessages.size;
  const noisy = new Set<string>();
  for (const [group, n] of inFlight) if (n >= NOISY_IN_FLIGHT && n > NOISY_SHARE * total) noisy.add(group);
  for (const [group, n] of delivered) if (n > NOISY_SHARE * state.recent.length) noisy.add(group);
  return [...noisy].sort((a, b) => (inFlight.get(a) ?? 0) - (inFlight.get(b) ?? 0));
}

/** Moves the messages at `indexes` (ascending) to the front of the queue, in their order. */
function moveToFront(messages: StoredMessage[], indexes: number[]): void {
  const picked = indexes.map((i) => messages[i] as StoredMessage);
  for (let k = indexes.length - 1; k >= 0; k--) messages.splice(indexes[k] as number, 1);
  messages.unshift(...picked);
}

/**
 * Puts the messages this receive should take (`count` at most) at the head of the queue, where
 * fauxqs's dequeue takes them. Returns how many leading messages are then known to be of noisy
 * groups after the picked ones (-1: unknown).
 */
function preferQuiet(queue: StandardQueue, state: QueueState, noisy: string[], count: number): number {
  const { messages } = queue;
  const noisySet = new Set(noisy);
  const noisyKey = noisy.slice().sort().join(",");
  const known = state.scanned;
  let i = known && known.messages === messages && known.noisyKey === noisyKey ? known.noisyPrefix : 0;
  const quiet: number[] = [];
  for (; i < messages.length && quiet.length < count; i++) {
    const group = (messages[i] as StoredMessage).messageGroupId;
    if (group === undefined || !noisySet.has(group)) quiet.push(i);
  }
  state.scanned = { messages, noisyKey, noisyPrefix: 0 };
  moveToFront(messages, quiet);
  if (quiet.length === count || noisy.length === 1) return i;
  // Several noisy groups: the one with the fewest messages in flight first.
  let missing = count - quiet.length;
  const taken: number[] = [];
  for (const group of noisy) {
    for (let j = quiet.length; j < messages.length && missing > 0; j++) {
      if ((messages[j] as StoredMessage).messageGroupId === group) {
        taken.push(j);
        missing--;
      }
    }
    if (missing === 0) break;
  }
  taken.sort((a, b) => a - b);
  const head = messages.splice(0, quiet.length);
  moveToFront(
    messages,
    taken.map((j) => j - quiet.length),
  );
  messages.unshift(...head);
  return -1;
}

function fairDequeue(original: StandardQueue["dequeue"]): StandardQueue["dequeue"] {
  return function (this: StandardQueue, maxCount, visibilityTimeout, dlq) {
    if (this.isFifo()) return original.call(this, maxCount, visibilityTimeout, dlq);
    this.processTimers();
    const state = stateOf(this);
    const noisy = noisyGroups(this, state);
    const count = Math.min(maxCount, 10);
    const scannedTo = noisy.length > 0 ? preferQuiet(this, state, noisy, count) : -1;
    if (noisy.length === 0) state.scanned = undefined;
    // fauxqs's dequeue takes from the head: the received messages and those it dead-letters.
    let deadLettered = 0;
    const countingDlq: DlqResolver | undefined = dlq
      ? (arn) => {
          const target = dlq(arn);
          if (target) deadLettered++;
          return target;
        }
      : undefined;
    const received = original.call(this, maxCount, visibilityTimeout, countingDlq);
    if (state.scanned) state.scanned.noisyPrefix = Math.max(0, scannedTo - received.length - deadLettered);
    for (const { ReceiptHandle } of received) {
      state.recent[state.next] = this.inflightMessages.get(ReceiptHandle)?.message.messageGroupId;
      state.next = (state.next + 1) % FAIR_QUEUE_RULE.RECENT_WINDOW;
    }
    return received;
  };
}

/** Group ids of messages being sent, by body, until the emulator stores the message. */
const sending = new Map<string, string[]>();

interface SendBody {
  MessageBody?: string;
  MessageGroupId?: string;
  Entries?: { MessageBody?: string; MessageGroupId?: string }[];
}

function sentMessages(target: string | undefined, body: unknown): { MessageBody?: string; MessageGroupId?: string }[] {
  const send = (body ?? {}) as SendBody;
  if (target === "AmazonSQS.SendMessage") return [send];
  if (target === "AmazonSQS.SendMessageBatch") return send.Entries ?? [];
  return [];
}

/**
 * Patches fauxqs's queue class (the module its app uses) and the app: sends keep their group id
 * on standard queues, and receives from standard queues are fair.
 */
export async function installFairQueues(app: FastifyInstance): Promise<void> {
  const store = new URL("./sqs/sqsStore.js", import.meta.resolve("fauxqs"));
  const { SqsQueue } = (await import(store.href)) as { SqsQueue: QueueClass };
  const { prototype } = SqsQueue;
  prototype.dequeue = fairDequeue(prototype.dequeue);
  const enqueue = prototype.enqueue;
  prototype.enqueue = function (this: StandardQueue, message) {
    const groups = message.messageGroupId === undefined ? sending.get(message.body) : undefined;
    if (groups) {
      message.messageGroupId = groups.shift();
      if (groups.length === 0) sending.delete(message.body);
    }
    enqueue.call(this, message);
  };
  // The action stores a send's messages synchronously; what is left after it answered was refused.
  app.addHook("preHandler", (request, _reply, done) => {
    for (const { MessageBody, MessageGroupId } of sentMessages(
      request.headers["x-amz-target"] as string,
      request.body,
    )) {
      if (MessageBody === undefined || MessageGroupId === undefined) continue;
      const groups = sending.get(MessageBody);
      if (groups) groups.push(MessageGroupId);
      else sending.set(MessageBody, [MessageGroupId]);
    }
    done();
  });
  app.addHook("onResponse", (request, _reply, done) => {
    for (const { MessageBody } of sentMessages(request.headers["x-amz-target"] as string, request.body)) {
      if (MessageBody !== undefined) sending.delete(MessageBody);
    }
    done();
  });
}
