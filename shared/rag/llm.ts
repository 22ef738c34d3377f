import { setTimeout as sleep } from "node:timers/promises";

export interface LlmClient {
  complete(prompt: string): Promise<string>;
}

/** Answers after a fixed delay, like a hosted model would, with a canned answer. */
export class DummyLlmClient implements LlmClient {
  constructor(private readonly delayMs: number) {}

  async complete(prompt: string): Promise<string> {
    if (!prompt) throw new Error("empty prompt");
    if (this.delayMs > 0) await sleep(this.delayMs);
    return "Thanks for your question! Based on the documentation, follow the steps in the guides above; if the problem persists, contact support with your project id.";
  }
}
