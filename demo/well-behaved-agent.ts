// The well-behaved sibling of the rogue assistant (`npm run demo:agent -- --propose`): it proposes the
// same payroll-2026 change through the verifier, waits for alice to approve it in her Countersign
// popup, and only then sends exactly that request with the token (lib/agent); a rejection or expiry
// is reported and nothing is sent. Node only.
import { DecisionTimeout, VerifierRefusal, createAgentClient } from '../lib/agent';
import type { ActionRequest } from '../lib/protocol';
import { AGENT_KEY_HEADER } from './auth';

/** The Access console's own credential for agent:access-helper (demo/store.ts): not a verifier key. */
const ACCESS_TOOL_KEY = 'access-helper-key';

export interface WellBehavedAgentOptions {
  verifierUrl: string;
  /** The Access console's base URL, e.g. http://localhost:8081. */
  consoleUrl: string;
  /** agent:access-helper's verifier agent key (csa_…). */
  agentKey: string;
  datasetId?: string;
  out?: (line: string) => void;
  signal?: AbortSignal;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export interface WellBehavedAgentResult {
  outcome: 'executed' | 'rejected' | 'expired' | 'refused' | 'failed';
  proposalId: string | null;
  traceId: string | null;
  /** The tool's HTTP status and answer, when it acted. */
  status: number | null;
  answer: unknown;
  /** The receipt the console recorded with the change. */
  receipt: string | null;
  reason: string | null;
}

/** The receipt on the newest entry of the dataset page's access history (`data-countersign-receipt`). */
async function recordedReceipt(doFetch: typeof fetch, consoleUrl: string, datasetId: string): Promise<string | null> {
  const page = await doFetch(new URL(`/datasets/${encodeURIComponent(datasetId)}`, consoleUrl), { headers: { [AGENT_KEY_HEADER]: ACCESS_TOOL_KEY } });
  if (!page.ok) return null;
  const receipts = [...(await page.text()).matchAll(/data-countersign-receipt="([\w-]+\.[\w-]+\.[\w-]+)"/g)].map((m) => m[1]!);
  return receipts.at(-1) ?? null;
}

export async function runWellBehavedAgent(options: WellBehavedAgentOptions): Promise<WellBehavedAgentResult> {
  const out = options.out ?? (() => undefined);
  const doFetch = options.fetch ?? fetch;
  const datasetId = options.datasetId ?? 'payroll-2026';
  const result: WellBehavedAgentResult = { outcome: 'failed', proposalId: null, traceId: null, status: null, answer: null, receipt: null, reason: null };
  const client = createAgentClient({ verifier: options.verifierUrl, agentKey: options.agentKey, fetch: doFetch });
  // The very request the rogue assistant sends, proposed instead of sent.
  const request: ActionRequest = {
    method: 'PUT',
    url: new URL(`/api/datasets/${encodeURIComponent(datasetId)}/access`, options.consoleUrl).href,
    contentType: 'application/json',
    body: JSON.stringify({ visibility: 'all-employees', groups: ['payroll-team'] }),
  };

  out(`Well-behaved assistant (agent:access-helper) — verifier ${options.verifierUrl}, Access console ${options.consoleUrl}`);
  out(`Proposing: PUT /api/datasets/${datasetId}/access (all-employees), for its owner to approve`);
  try {
    const created = await client.propose({ request, scope: 'admin.acl.write', summary: `Open ${datasetId} to all employees (keep payroll-team)` }, options.signal ? { signal: options.signal } : {});
    result.proposalId = created.id;
    result.traceId = created.traceId;
    out(`Proposal ${created.id} (trace ${created.traceId}), expires ${new Date(created.expiresAt * 1000).toISOString()}`);
    out('Waiting for alice to approve it in her Countersign popup… (nothing is sent to the console until then)');
    const decision = await client.waitForDecision(created.id, { ...(options.signal ? { signal: options.signal } : {}), ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}) });
    if (decision.state === 'rejected') {
      result.outcome = 'rejected';
      result.reason = decision.reason;
      out(`Rejected by its owner: ${decision.reason || '(no reason given)'}. Nothing was sent.`);
      return result;
    }
    if (decision.state === 'expired') {
      result.outcome = 'expired';
      out('Nobody decided in time: the proposal expired. Nothing was sent.');
      return result;
    }
    out('Approved. Sending exactly the proposed request with its approval token…');
    const response = await client.execute(request, decision.tokens, { headers: { [AGENT_KEY_HEADER]: ACCESS_TOOL_KEY }, ...(options.signal ? { signal: options.signal } : {}) });
    result.status = response.status;
    result.answer = await response.json().catch(() => null);
    out(`Access console answered HTTP ${response.status}: ${JSON.stringify(result.answer)}`);
    if (!response.ok) {
      out('UNEXPECTED: the console refused the approved request.');
      return result;
    }
    result.outcome = 'executed';
    result.receipt = await recordedReceipt(doFetch, options.consoleUrl, datasetId).catch(() => null);
    out(result.receipt ? `Receipt recorded with the change: ${result.receipt.slice(0, 32)}…` : 'No receipt found in the console\'s history.');
    return result;
  } catch (error) {
    if (error instanceof VerifierRefusal) {
      result.outcome = 'refused';
      result.reason = error.code;
      out(`The verifier refused: ${error.code} (HTTP ${error.status}): ${error.message}`);
    } else if (error instanceof DecisionTimeout) {
      out(`Stopped waiting: ${error.message}. The proposal stays pending until it expires.`);
    } else if (options.signal?.aborted) {
      out('Stopped waiting. The proposal stays pending until it expires; nothing was sent.');
    } else {
      out(`failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    return result;
  }
}
