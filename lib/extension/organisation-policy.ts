// The organisation's extension policy from the verifier (DESIGN.md, "Organisation policy from the
// verifier"): fetched with a device proof and If-None-Match, the last good copy kept in the
// extension's own database across restarts; an unreachable verifier or a bad answer keeps it.
// Joined into the effective policy by effective-policy.ts. Background only.
import { z } from 'zod';
import { ErrorBody, OrganisationPolicyVersion, canonicalJson, mintDeviceProof, parseJsonStrict } from '../protocol';
import { deviceKey } from './device-key';
import { defineSetting } from './settings';
import type { OrganisationPolicyInput } from '../policy/effective-policy';
import { currentEnrollment } from './enrollment';

export const ORGANISATION_POLICY_PATH = '/v1/extension-policy';
/** Its Dexie `settings` key. Not browser.storage.local: content scripts can write there, never here. */
export const ORGANISATION_POLICY_KEY = 'organisation-policy';
/** An answer larger than this is refused (the verifier takes documents of up to 1 MiB). */
const MAX_ANSWER_BYTES = 2 * 1024 * 1024;
const TIMEOUT_MS = 5000;

/** A copy the verifier sent: the document itself is checked key by key when it is joined. */
const HeldCopy = z.strictObject({
  /** The verifier it came from (the enrolled one at the time). */
  verifierUrl: z.string(),
  version: z.int().min(0),
  policy: z.record(z.string(), z.unknown()),
  updatedAt: z.int().min(0).nullable(),
  /** When the verifier sent this version (ms). */
  fetchedAt: z.int().min(0),
});
export type HeldCopy = z.infer<typeof HeldCopy>;

/** The stored row. `format` versioned it before settings.ts kept a version of its own; it stays, so builds on either side read it. */
const StoredState = z.strictObject({
  format: z.literal(1),
  copy: HeldCopy.nullable(),
  /** The last answer from the verifier that left a good copy in place (200 or 304, ms). */
  checkedAt: z.int().min(0).nullable(),
  /** The last time a fetch was tried (ms). */
  attemptedAt: z.int().min(0).nullable(),
  /** Why the last fetch left the copy as it was, or null when it succeeded. */
  error: z.string().nullable(),
});
export type OrganisationPolicyState = z.infer<typeof StoredState>;

const EMPTY: OrganisationPolicyState = { format: 1, copy: null, checkedAt: null, attemptedAt: null, error: null };

/**
 * The answer's frame without the document's details: a version and an object. An answer with a good
 * frame but a bad part (an adapter this build cannot parse) is kept, so the rest of it still applies
 * and the bad part is reported by the join (its sites fail closed); a bad frame is garbage.
 */
const AnswerFrame = z.strictObject({
  version: OrganisationPolicyVersion.shape.version,
  policy: z.record(z.string(), z.unknown()),
  updatedAt: OrganisationPolicyVersion.shape.updatedAt,
});

/** A row this build cannot read (a newer format after a downgrade) is no copy: the next fetch makes one. */
export const organisationPolicySetting = defineSetting<OrganisationPolicyState>(ORGANISATION_POLICY_KEY, {
  schema: StoredState,
  fallback: EMPTY,
  invalid: () => ({ ...EMPTY, error: 'the stored organisation policy could not be read; it is fetched again' }),
});

export function readOrganisationPolicy(): Promise<OrganisationPolicyState> {
  return organisationPolicySetting.getValue();
}

/** The held copy as the join takes it, or null. */
export async function heldOrganisationPolicy(): Promise<OrganisationPolicyInput | null> {
  const { copy } = await readOrganisationPolicy();
  return copy ? { version: copy.version, updatedAt: copy.updatedAt, policy: copy.policy } : null;
}

export interface RefreshOptions {
  /** False under a managed `verifierPolicy: "off"`: nothing is fetched. */
  enabled: boolean;
  fetchFn?: typeof fetch;
  now?: number;
}

export interface RefreshResult {
  state: OrganisationPolicyState;
  /** The held copy changed (another version or document): the effective policy must be read again. */
  changed: boolean;
  /** Whether a request was sent. */
  fetched: boolean;
}

let inflight: Promise<RefreshResult> | null = null;

/**
 * Fetches the organisation policy from the enrolled verifier, once at a time: calls while one runs
 * (the status alarm and an opening options page) share its result.
 */
export function refreshOrganisationPolicy(options: RefreshOptions): Promise<RefreshResult> {
  inflight ??= refresh(options).finally(() => {
    inflight = null;
  });
  return inflight;
}

async function refresh({ enabled, fetchFn = fetch, now = Date.now() }: RefreshOptions): Promise<RefreshResult> {
  const state = await readOrganisationPolicy();
  if (!enabled) return { state, changed: false, fetched: false };
  const enrollment = await currentEnrollment();
  // Only an enrolled device can authenticate; enrollment fetches it straight away.
  if (!enrollment) return { state, changed: false, fetched: false };
  const key = await deviceKey();
  const url = new URL(ORGANISATION_POLICY_PATH, enrollment.verifierUrl).href;
  const keep = async (error: string): Promise<RefreshResult> => {
    const next = { ...state, attemptedAt: now, error };
    await organisationPolicySetting.setValue(next);
    return { state: next, changed: false, fetched: true };
  };
  if (key.kid !== enrollment.kid) return keep('this device\'s key is not the enrolled one: enroll again');
  // A version number means something only to the verifier that issued it.
  const held = state.copy?.verifierUrl === enrollment.verifierUrl ? state.copy : null;
  const headers: Record<string, string> = {
    accept: 'application/json',
    authorization: await mintDeviceProof({ privateKey: key.privateKey, kid: key.kid, method: 'GET', url, now: Math.floor(now / 1000) }),
  };
  if (held) headers['if-none-match'] = `"${held.version}"`;

  let res: Response;
  let text = '';
  try {
    // no-store: the HTTP cache would answer our own If-None-Match's 304 with its stored 200.
    res = await fetchFn(url, { method: 'GET', headers, cache: 'no-store', signal: AbortSignal.timeout(TIMEOUT_MS) });
    if (res.status !== 304) text = await res.text();
  } catch {
    return keep(`the verifier at ${enrollment.verifierUrl} did not answer`);
  }
  if (res.status === 304) {
    if (!held) return keep('the verifier answered 304 Not Modified, but no copy is held');
    const next = { ...state, checkedAt: now, attemptedAt: now, error: null };
    await organisationPolicySetting.setValue(next);
    return { state: next, changed: false, fetched: true };
  }
  if (!res.ok) {
    const body = parseJsonStrict(text);
    const error = body.ok ? ErrorBody.safeParse(body.value) : null;
    return keep(error?.success ? `the verifier refused the request: ${error.data.error.code} (${error.data.error.message})` : `the verifier answered HTTP ${res.status}`);
  }
  if (text.length > MAX_ANSWER_BYTES) return keep(`the verifier's answer is over ${MAX_ANSWER_BYTES} bytes`);
  const json = parseJsonStrict(text);
  if (!json.ok) return keep(`the verifier's answer is not an organisation policy: ${json.reason}`);
  const frame = AnswerFrame.safeParse(json.value);
  if (!frame.success) {
    const issue = frame.error.issues[0]!;
    return keep(`the verifier's answer is not an organisation policy: ${issue.path.join('.') || '(answer)'}: ${issue.message}`);
  }
  const copy: HeldCopy = { verifierUrl: enrollment.verifierUrl, version: frame.data.version, policy: frame.data.policy, updatedAt: frame.data.updatedAt, fetchedAt: now };
  const changed = !state.copy || state.copy.verifierUrl !== copy.verifierUrl || state.copy.version !== copy.version || canonicalJson(state.copy.policy) !== canonicalJson(copy.policy);
  // A verifier that answers the same version again does not make it newer than it is.
  const next: OrganisationPolicyState = { format: 1, copy: changed ? copy : state.copy, checkedAt: now, attemptedAt: now, error: null };
  await organisationPolicySetting.setValue(next);
  return { state: next, changed, fetched: true };
}
