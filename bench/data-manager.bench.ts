/**
 * The data manager on a large project (issue "Web app", acceptance 3): how long the web app takes
 * to show the first rows of a 100,000-task project in headless Chromium, beside the same page for
 * a 100-task project measured in the same run (the baseline: what the page costs whatever the
 * size), and the API call behind it (`GET /api/tasks?project=…&page=1`) on both.
 *
 * Each figure is the median of several cold page loads (a fresh navigation each time, the app's
 * assets cached as a returning user has them). Run: npm run bench:dm [-- --tasks 100000 --loads 7]
 */
import { performance } from 'node:perf_hooks';
import { call, startServer } from '../test/harness.js';
import { makeOrganization, makeMember, makeWorkspace, PASSWORD } from '../test/factories.js';
import { launchBrowser, logIn } from '../test/browser/browser-kit.js';
import { arg } from './stats.js';

const TASKS = Number(arg('tasks', '100000'));
const LOADS = Number(arg('loads', '7'));
const CONFIG = '<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/></Choices></View>';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const s = await startServer('sqlite');
  try {
    const org = await makeOrganization(s.deps);
    const manager = await makeMember(s.deps, org.id, 'MA');
    const workspace = await makeWorkspace(s.deps, org.id, [manager]);
    const project = async (n: number) => {
      const id = (await call(s, 'POST', '/api/projects', { token: manager.token, body: { title: `DM ${n}`, label_config: CONFIG, workspace } })).body.id as number;
      const started = performance.now();
      for (let done = 0; done < n; done += 50_000) {
        const batch = Array.from({ length: Math.min(50_000, n - done) }, (_, i) => ({ text: `Task ${done + i}: the delivery was quick and the product works great, mostly.` }));
        const r = await call(s, 'POST', `/api/projects/${id}/import`, { token: manager.token, body: batch });
        if (r.status !== 201) throw new Error(`import failed: ${r.status} ${JSON.stringify(r.body)}`);
      }
      return { id, importSeconds: (performance.now() - started) / 1000 };
    };
    const small = await project(100);
    const big = await project(TASKS);
    process.stdout.write(`imported ${TASKS} tasks in ${big.importSeconds.toFixed(1)} s\n`);

    const api = async (id: number) => {
      const times: number[] = [];
      for (let i = 0; i < LOADS; i++) {
        const t0 = performance.now();
        const r = await call(s, 'GET', `/api/tasks?project=${id}&page=1&page_size=30`, { token: manager.token });
        if (r.status !== 200) throw new Error(`list failed: ${r.status}`);
        times.push(performance.now() - t0);
      }
      return median(times);
    };

    const browser = await launchBrowser();
    try {
      const page = await browser.context.newPage();
      await logIn(page, s.url, manager.email, PASSWORD);
      const firstRows = async (id: number) => {
        const times: number[] = [];
        await page.goto(`${s.url}/projects/${id}/data`);
        await page.getByTestId('task-row').first().waitFor();
        for (let i = 0; i < LOADS; i++) {
          await page.goto('about:blank');
          const t0 = performance.now();
          await page.goto(`${s.url}/projects/${id}/data`);
          await page.getByTestId('task-row').first().waitFor();
          times.push(performance.now() - t0);
        }
        return median(times);
      };
      const rows = { small: await firstRows(small.id), big: await firstRows(big.id) };
      const calls = { small: await api(small.id), big: await api(big.id) };
      process.stdout.write(
        [
          `data manager, first rows visible (median of ${LOADS} page loads):`,
          `  ${TASKS} tasks: ${rows.big.toFixed(0)} ms   100 tasks (baseline): ${rows.small.toFixed(0)} ms   ratio ${(rows.big / rows.small).toFixed(2)}   target < 1000 ms`,
          `GET /api/tasks page 1 (median of ${LOADS}):`,
          `  ${TASKS} tasks: ${calls.big.toFixed(1)} ms   100 tasks: ${calls.small.toFixed(1)} ms   ratio ${(calls.big / calls.small).toFixed(2)}`,
          '',
        ].join('\n'),
      );
    } finally {
      await browser.close();
    }
  } finally {
    await s.close();
  }
}

await main();
