// The Countersign middleware for internal tools: the decision core, the verifier clients, and the
// three front doors (Fastify route config, Express per-route handler, node:http route table). Node only.
export { APPROVAL_HEADER, checkProtection, createMiddleware, refusal, refusalOf } from './core';
export type {
  AssistantMarkers,
  Decision,
  Headers,
  IncomingRequest,
  Inspection,
  Middleware,
  MiddlewareOptions,
  ProtectedRoute,
  Refusal,
  RequestFacts,
  Requirement,
  RouteProtection,
  VerifierCall,
  VerifierClient,
} from './core';
export { compileOrigins, resolveRequestUrl, targetPath } from './request-url';
export type { ResolvedUrl, ToolOrigin } from './request-url';
export { DEFAULT_BODY_LIMIT, readRawBody } from './raw-body';
export { inProcessVerifier, remoteVerifier } from './clients';
export type { RemoteVerifierOptions } from './clients';
export { countersignFastify } from './fastify';
export type { CountersignApproval, CountersignFastifyOptions, CountersignRouteConfig } from './fastify';
export { countersignExpress } from './express';
export type { CountersignExpress, CountersignExpressOptions, ExpressProtection } from './express';
export { countersignNode } from './node-http';
export type { CountersignNodeOptions, Guarded, NodeRoute } from './node-http';
