// A listening verifier (SQLite or PostgreSQL) with alice enrolled, agent:access-helper registered and
// given a verifier agent key, and the demo tools listening behind the remote middleware; alice's
// device lists and decides proposals through the verifier's device routes. Shared by the agent
// client's, the MCP server's and the demo agent's tests. Node only (tests).
import { buildDemo } from '../../../demo/app';
import type { Demo } from '../../../demo/app';
import { freePort } from '../../../demo/free-port';
import { ProposalList, mintDeviceProof } from '../../../lib/protocol';
import type { PendingProposal } from '../../../lib/protocol';
import { remoteVerifier } from '../../../server/middleware';
import { ADMIN_TOKEN, PUBLIC_URL, startVerifier } from '../../helpers/verifier';
import type { DatabaseKind, Device, TestVerifier } from '../../helpers/verifier';

export const AGENT = 'agent:access-helper';
/** The demo console's own credential for agent:access-helper (demo/store.ts), not a verifier key. */
export const TOOL_KEY = 'access-helper-key';
export const WIDEN = JSON.stringify({ visibility: 'all-employees', groups: ['payroll-team'] });

export interface ProposalWorld {
  v: TestVerifier;
  alice: Device;
  demo: Demo;
  verifierUrl: string;
  forumUrl: string;
  consoleUrl: string;
  adminToken: string;
  /** A verifier agent key (csa_…) of agent:access-helper, and its id. */
  agentKey: string;
  keyId: string;
  accessUrl: string;
  newKey(): Promise<{ key: string; keyId: string }>;
  revokeKey(keyId: string): Promise<void>;
  pending(device?: Device): Promise<PendingProposal[]>;
  /** Waits until the proposal is listed for alice, then approves it with a token her device signs. */
  approve(id: string, device?: Device): Promise<number>;
  reject(id: string, reason: string, device?: Device): Promise<number>;
  close(): Promise<void>;
}

async function listed(world: Pick<ProposalWorld, 'pending'>, id: string, device: Device): Promise<PendingProposal> {
  for (let i = 0; i < 200; i++) {
    const found = (await world.pending(device)).find((p) => p.id === id);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`proposal ${id} never listed`);
}

export async function startProposalWorld(kind: DatabaseKind): Promise<ProposalWorld> {
  const v = await startVerifier(kind);
  const alice = await v.enroll('alice');
  const verifierUrl = await v.app.listen({ port: 0, host: '127.0.0.1' });
  const [forumPort, consolePort] = [await freePort(), await freePort()];
  const forumUrl = `http://127.0.0.1:${forumPort}`;
  const consoleUrl = `http://localhost:${consolePort}`;
  await v.registerAgent(AGENT, 'alice', ['admin.acl.write'], [consoleUrl]);
  const demo = await buildDemo({ verifier: remoteVerifier({ url: verifierUrl }), forumOrigin: forumUrl, consoleOrigin: consoleUrl });
  await demo.forum.listen({ port: forumPort, host: '127.0.0.1' });
  await demo.console.listen({ port: consolePort, host: '127.0.0.1' });

  const newKey = async () => {
    const res = await v.admin('POST', `/v1/admin/agents/${encodeURIComponent(AGENT)}/keys`);
    if (res.statusCode !== 201) throw new Error(`agent key: ${res.body}`);
    return res.json() as { key: string; keyId: string };
  };
  const deviceCall = async (device: Device, method: 'GET' | 'POST', url: string, payload?: unknown) => {
    const authorization = await mintDeviceProof({ privateKey: device.privateKey, kid: device.kid, method, url: `${PUBLIC_URL}${url}`, now: v.seconds() });
    return v.app.inject({ method, url, headers: { authorization }, ...(payload !== undefined ? { payload: payload as object } : {}) });
  };
  const { key: agentKey, keyId } = await newKey();

  const world: ProposalWorld = {
    v,
    alice,
    demo,
    verifierUrl,
    forumUrl,
    consoleUrl,
    adminToken: ADMIN_TOKEN,
    agentKey,
    keyId,
    accessUrl: `${consoleUrl}/api/datasets/payroll-2026/access`,
    newKey,
    async revokeKey(id) {
      const res = await v.admin('DELETE', `/v1/admin/agents/${encodeURIComponent(AGENT)}/keys/${id}`);
      if (res.statusCode >= 300) throw new Error(`revoke: ${res.body}`);
    },
    async pending(device = alice) {
      const res = await deviceCall(device, 'GET', '/v1/proposals?state=pending');
      return ProposalList.parse(res.json()).proposals;
    },
    async approve(id, device = alice) {
      const p = await listed(world, id, device);
      const { token } = await v.mint(device, { request: p.request, agent: p.agent, scope: p.scope, traceId: p.traceId });
      return (await deviceCall(device, 'POST', `/v1/proposals/${id}/decision`, { approve: token })).statusCode;
    },
    async reject(id, reason, device = alice) {
      await listed(world, id, device);
      return (await deviceCall(device, 'POST', `/v1/proposals/${id}/decision`, { reject: { reason } })).statusCode;
    },
    async close() {
      await demo.close();
      await v.close();
    },
  };
  return world;
}
