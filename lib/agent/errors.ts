// The agent client's failures, each its own class (jose's style): a verifier's or tool's refusal with
// DESIGN.md's code, a wait that timed out, a verifier that stayed unreachable, an answer that fails its
// schema. No message carries the agent key, a token or a body. Runtime-neutral.
import { CountersignError } from '../protocol/errors';
import type { ErrorCode } from '../protocol/errors';

/** The verifier answered with DESIGN.md's error body: `code`, the HTTP `status` it came with, `traceId`. */
export class VerifierRefusal extends CountersignError {
  readonly httpStatus: number;

  constructor(code: ErrorCode, message: string, httpStatus: number, traceId: string | undefined) {
    super(code, message, { traceId });
    this.name = 'VerifierRefusal';
    this.httpStatus = httpStatus;
  }

  override get status(): number {
    return this.httpStatus;
  }
}

/** `waitForDecision` reached its `timeoutMs` while the proposal was still pending (it may still be decided). */
export class DecisionTimeout extends Error {
  readonly proposalId: string;

  constructor(proposalId: string, timeoutMs: number) {
    super(`proposal ${proposalId} was still pending after ${timeoutMs} ms`);
    this.name = 'DecisionTimeout';
    this.proposalId = proposalId;
  }
}

/** The verifier did not answer (network failure, 502/503/504) on every try of a bounded number. */
export class VerifierUnreachable extends Error {
  readonly attempts: number;

  constructor(attempts: number, lastFailure: string, options?: { cause?: unknown }) {
    super(`the verifier did not answer after ${attempts} tries (last: ${lastFailure})`, options);
    this.name = 'VerifierUnreachable';
    this.attempts = attempts;
  }
}

/** The verifier's answer was not what DESIGN.md says it is: nothing in it is trusted. */
export class UnexpectedAnswer extends Error {
  readonly httpStatus: number;

  constructor(what: string, httpStatus: number) {
    super(`unexpected answer from the verifier to ${what} (HTTP ${httpStatus})`);
    this.name = 'UnexpectedAnswer';
    this.httpStatus = httpStatus;
  }
}
