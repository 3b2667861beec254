// What HTTP alone costs the verify benchmark: the same load (autocannon, the same body, 16
// connections) against a Fastify server that only parses the body and answers (http-floor-server.ts),
// so the verifier's throughput can be read against the most any Fastify route could do here. Node only (bench).
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';

/** Requests per second the floor server answers under the verify load's shape. */
export async function httpFloor(body: string, seconds = 5): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/http-floor-server.ts'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`the HTTP floor server exited with ${code}`)));
    });
    const result = await autocannon({ url: `${url}/v1/verify`, connections: 16, duration: seconds, requests: [{ method: 'POST', headers: { 'content-type': 'application/json' }, body }] });
    if (result.non2xx > 0 || result.errors > 0) throw new Error(`HTTP floor: ${result.non2xx} non-2xx, ${result.errors} errors`);
    return result.requests.average;
  } finally {
    child.kill('SIGKILL');
  }
}
