// Browser benchmarks (issue 8, metrics 3–6) in Debian's Chromium with the built extension and the
// same Chromium without it, in one run: the reader page's badges, the unprotected page, a person's
// fetch on a protected page, approve → wire. Writes the admin policy into Chromium's managed-policy
// directory (root; run under `flock /tmp/cs-chromium.lock`). Node only (bench).
import { startStack } from '../test/helpers/browser/stack';
import { approveToWire } from './browser-approve';
import { personFetch } from './browser-fetch';
import { unprotectedPage } from './browser-injection';
import { readerPage } from './browser-reader';
import { seedReaderTopic } from './browser-seed';
import { withBrowsers } from './browser-support';
import type { Metric } from './verifier';

export async function browserMetrics(log: (line: string) => void = () => undefined): Promise<Metric[]> {
  const stack = await startStack();
  const metrics: Metric[] = [];
  try {
    const topic = await seedReaderTopic(stack);
    log(`seeded topic ${topic.topicId}: ${JSON.stringify(topic.counts)}`);
    await withBrowsers(stack, async ({ ext, extTab, plainTab }) => {
      metrics.push(...(await readerPage(extTab, plainTab, stack.forumUrl, topic, log)));
      log('reader page done');
      metrics.push(...(await unprotectedPage(ext.context, ext.extensionId, `${stack.forumUrl}/t/1`)));
      log('unprotected page done');
      metrics.push(...(await personFetch(extTab, plainTab, stack.forumUrl)));
      log("person's fetch done");
      await extTab.close();
      await plainTab.close();
      metrics.push(...(await approveToWire(ext, stack)));
      log('approve → wire done');
    });
  } finally {
    await stack.close();
  }
  return metrics;
}
