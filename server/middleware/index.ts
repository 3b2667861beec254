// The Countersign middleware for internal tools: core, verifier clients, and framework adapters. Node only.
export { APPROVAL_HEADER, createMiddleware } from './core';
export type { AssistantMarkers, Decision, IncomingRequest, Middleware, MiddlewareOptions, ProtectedRoute, Requirement, VerifierClient } from './core';
export { inProcessVerifier, remoteVerifier } from './clients';
export type { RemoteVerifierOptions } from './clients';
export { countersignFastify } from './fastify';
export type { CountersignApproval, CountersignFastifyOptions } from './fastify';
export { countersignExpress } from './express';
export type { CountersignExpressOptions } from './express';
export { countersignNode, readBody } from './node-http';
export type { CountersignNodeOptions, Guarded } from './node-http';
