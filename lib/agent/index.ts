// The agent client's public surface (DESIGN.md, "Agent proposals"): every export by name. Runtime-neutral.
export { createAgentClient, backoffDelay } from './client';
export type { AgentClient, AgentClientOptions, Decision, ExecuteOptions, RetryOptions, WaitOptions } from './client';
export { DecisionTimeout, UnexpectedAnswer, VerifierRefusal, VerifierUnreachable } from './errors';
