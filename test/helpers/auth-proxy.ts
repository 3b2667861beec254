// The company's authenticating proxy, for tests: a real HAProxy (/usr/sbin/haproxy, Debian's `haproxy`)
// in front of a backend (the gateway), one frontend port per person. Whatever comes in on a person's port
// reaches the backend as that person: every header a PHP tool could read as X-Forwarded-User is removed,
// then X-Forwarded-User is set to their name. Node only (tests).
//
//   const proxy = await startAuthProxy(gateway.url, ['Alice', 'Bob']);
//   await fetch(`${proxy.urlFor('Alice')}/index.php/Main_Page`);   // reaches the gateway as Alice
//   await proxy.stop();
import { httpServers, runHaproxy } from './haproxy';
import { freePort } from './processes';

export { HAPROXY } from './haproxy';

/**
 * The header names PHP turns into $_SERVER['HTTP_X_FORWARDED_USER'] (case-insensitive; '-', '_' and '.'
 * all become '_'; a space cannot occur in a header name HAProxy accepts), as an HAProxy regex.
 * HAProxy deletes these before setting its own, so a client cannot smuggle `X-Forwarded_User: Alice`.
 */
export const FORWARDED_USER_HEADER_REGEX = '(?i)^x[-_.]forwarded[-_.]user$';

export type AuthProxy = {
  /** http://127.0.0.1:PORT, the port that is `name`'s. Throws for a name not given to startAuthProxy. */
  urlFor(name: string): string;
  /** Name → URL, for every person. */
  urls: Record<string, string>;
  /** SIGTERM, waits for the exit, removes the config. Idempotent. */
  stop(): Promise<void>;
};

/**
 * `backend`: an http origin (the gateway), or several (gateway instances, balanced round-robin, as any
 * load balancer would). `people`: user names as the proxy asserts them (letters, digits, . _ @ -).
 */
export async function startAuthProxy(backend: string | string[], people: string[]): Promise<AuthProxy> {
  const servers = httpServers(Array.isArray(backend) ? backend : [backend], 'auth proxy');
  for (const name of people) {
    if (!/^[A-Za-z0-9._@-]+$/.test(name)) throw new Error(`Not a user name the proxy can assert: ${JSON.stringify(name)}`);
  }
  if (new Set(people).size !== people.length) throw new Error('A person is listed twice');

  const ports = new Map<string, number>();
  for (const name of people) ports.set(name, await freePort());

  const { stop } = await runHaproxy(renderConfig(servers, ports), [...ports.values()]);

  const urls = Object.fromEntries([...ports].map(([name, port]) => [name, `http://127.0.0.1:${port}`]));
  return {
    urls,
    urlFor(name) {
      const url = urls[name];
      if (!url) throw new Error(`The auth proxy has no port for ${name} (it has ${people.join(', ')})`);
      return url;
    },
    stop,
  };
}

function renderConfig(servers: string[], ports: Map<string, number>): string {
  const frontends = [...ports].map(
    ([name, port], i) => `
frontend person_${i}
    # ${name}
    bind 127.0.0.1:${port}
    http-request del-header ${FORWARDED_USER_HEADER_REGEX} -m reg
    http-request set-header X-Forwarded-User ${name}
    default_backend gateway
`,
  );
  return `# Written by test/helpers/auth-proxy.ts: the company's authenticating proxy, one port per person.
global
    maxconn 1024

defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout http-request 10s
    timeout http-keep-alive 10s
${frontends.join('')}
backend gateway
    balance roundrobin
${servers.map((server, i) => `    server gateway_${i} ${server}`).join('\n')}
`;
}
