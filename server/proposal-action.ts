// What a proposed action is, read once from its request the way verify will read it: its digest,
// the tool's origin, and the facts policy rules judge it by. Shared by agent proposals, published
// held actions and approval plans. Node only.
import type { ActionFacts, ActionRequest } from '../lib/protocol';
import { HttpOrigin, PayloadInvalid, actionDigest, actionFacts, canonicalUrl, contentAt, readBodyFields } from '../lib/protocol';

export interface ProposedAction {
  digest: string;
  /** The tool's origin (the token's `aud`). */
  site: string;
  facts: ActionFacts;
}

/** Throws a CountersignError (payload_invalid) for a request that could never be approved. */
export async function readProposedAction(request: ActionRequest, contentField: string | undefined): Promise<ProposedAction> {
  const url = canonicalUrl(request.url);
  const site = new URL(url).origin;
  if (!HttpOrigin.safeParse(site).success) throw new PayloadInvalid('an http(s) URL', 'request.url');
  const digest = await actionDigest(request);
  // The content field must read as one text from these bytes, as verify will read it.
  const content = contentField === undefined ? null : contentAt(await readBodyFields(request.contentType, request.body), contentField);
  return { digest, site, facts: actionFacts(request, content) };
}
