// Sending to the background again when the answer is lost. Runtime-neutral.

/**
 * Sends again when the answer is lost (the worker stopped while it handled the message; the next
 * message wakes it). Only for messages the background treats idempotently: a proposal carries its
 * proposalId, an outcome ends an action at most once.
 */
export async function resend<T>(send: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (error) {
      if (attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}
