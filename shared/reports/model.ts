/** A claimed run: its id, and the attempt number that fences the claim. */
export interface RunClaim {
  id: string;
  attempt: number;
}

/** One email SES accepted for a run. */
export interface Delivery {
  userId: string;
  email: string;
  messageId: string;
  sentAt: Date;
}

/** How a claimed run ended. */
export interface RunOutcome {
  status: "sent" | "failed";
  error?: string;
  at: Date;
}
