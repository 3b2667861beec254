import { describe, expect, it } from 'vitest';
import { foldHeaderName, isTrustedPeer, ownedHeaders, peerAddress, rawValues, requestHeadersToTool, responseHeadersToClient } from '@/server/gateway/headers';

const owned = ownedHeaders(['X-Forwarded-User', 'X-Countersign-Agent-Key']);

describe('gateway headers', () => {
  it('folds names as a CGI tool reads them: PHP turns `_`, `.` and spaces into the same name; Apache every non-alphanumeric', () => {
    expect(foldHeaderName('X-Forwarded_User')).toBe('x-forwarded-user');
    for (const spelling of ['X.Forwarded.User', 'x_forwarded.user', 'X+Forwarded~User', "X'Forwarded|User"]) expect(foldHeaderName(spelling)).toBe('x-forwarded-user');
    expect(rawValues(['X-Forwarded-User', 'a', 'x_forwarded_user', 'b', 'Other', 'c', 'X.Forwarded.User', 'd'], 'x-forwarded-user')).toEqual(['a', 'b', 'd']);
  });

  it('reads IPv4-mapped peers as their IPv4 address, and trusts only listed peers', () => {
    expect(peerAddress('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(isTrustedPeer('127.0.0.1', ['127.0.0.1'])).toBe(true);
    expect(isTrustedPeer('127.0.0.2', ['127.0.0.1'])).toBe(false);
    expect(isTrustedPeer(undefined, ['127.0.0.1'])).toBe(false);
  });

  it('attack: hop-by-hop headers, headers named in Connection, and every spelling of an owned header are dropped toward the tool', () => {
    const out = requestHeadersToTool(
      {
        host: 'evil', connection: 'close, x-drop-me', 'x-drop-me': '1', 'transfer-encoding': 'chunked', expect: '100-continue', te: 'trailers',
        'x-forwarded_user': 'root', 'countersign_approval': 't', 'x-countersign-agent-key': 'csa_k', 'x.countersign.agent.key': 'csa_j', 'countersign.receipt': 'r', 'countersign.agent': 'root', 'content-length': '99', accept: 'text/html',
      },
      { owned, userHeader: 'X-Forwarded-User', trustedPeer: true },
      { user: 'alice', contentLength: 5 },
    );
    expect(out).toEqual({ accept: 'text/html', 'x-forwarded-user': 'alice', 'content-length': '5' });
  });

  it("attack: an agent's own cookie and authorization never reach the tool; the brokered credential replaces them", () => {
    const out = requestHeadersToTool(
      { cookie: 'stolen=1', authorization: 'Basic eA==', 'x-wiki': '1' },
      { owned, userHeader: 'X-Forwarded-User', trustedPeer: false },
      { agent: 'wiki-helper', credential: { cookie: 'wikidb_session=bot' } },
    );
    expect(out).toEqual({ 'x-wiki': '1', 'countersign-agent': 'wiki-helper', cookie: 'wikidb_session=bot' });
  });

  it('attack: the credential never reaches the client: Set-Cookie and any header echoing it are dropped on a brokered request', () => {
    const credential = { cookie: 'wikidb_session=bot-secret' };
    const out = responseHeadersToClient({ 'set-cookie': ['wikidb_session=renewed'], 'x-debug': 'got wikidb_session=bot-secret', 'content-type': 'text/html', connection: 'keep-alive' }, true, credential);
    expect(out).toEqual({ 'content-type': 'text/html' });
    expect(responseHeadersToClient({ 'set-cookie': ['a=1'] }, false, undefined)).toEqual({ 'set-cookie': ['a=1'] });
  });

  it('attack: a session the tool opens for an agent without a brokered credential never reaches the agent', () => {
    expect(responseHeadersToClient({ 'set-cookie': ['wikidb_session=anon'], 'set-cookie2': 'x=1', 'content-type': 'text/html' }, true, undefined)).toEqual({ 'content-type': 'text/html' });
  });
});
