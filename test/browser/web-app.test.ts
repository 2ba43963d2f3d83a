/**
 * The web app end to end in a real browser (Debian's Chromium driven by playwright-core) against
 * the real server: a Manager logs in, creates a project from a template, imports tasks by
 * pasting JSON; an Annotator of the project's workspace labels in the Label Studio editor by
 * clicking a choice and submitting, and skips the next task. The annotations are then read back
 * through the API in Label Studio's result shape. SQLite only: the browser adds nothing
 * dialect-specific that the API tests do not already cover on both databases.
 *
 * Screenshots (1440×900) of the main pages land in test-artifacts/screenshots/.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeMember, makeTeam, PASSWORD, type Member } from '../factories.js';
import { call, startServer, type TestServer } from '../harness.js';
import { buildWebOnce } from './browser-kit.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SHOTS = path.join(ROOT, 'test-artifacts', 'screenshots');
const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let server: TestServer;
let team: Awaited<ReturnType<typeof makeTeam>>;
let context: BrowserContext;
let profileDir: string;

/** A fresh browser page (its own cookies are the context's: log out between users). */
async function newPage(): Promise<Page> {
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  return page;
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

async function logIn(page: Page, who: Member, next = '/projects'): Promise<void> {
  await context.clearCookies(); // whoever was signed in before
  await page.goto(`${server.url}${next}`);
  await page.waitForURL(/\/login\?next=/);
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => u.pathname === next);
}

async function logOut(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.waitForURL(/\/login/);
}

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`The browser tests need Debian's Chromium at ${CHROMIUM}: apt-get install -y chromium (.ci/run does it).`);
  // The server serves the built app from dist/web: build it once for all browser test files (about a second).
  await buildWebOnce();
  fs.mkdirSync(SHOTS, { recursive: true });
  server = await startServer('sqlite');
  team = await makeTeam(server.deps);
  profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'labelvault-chromium-'));
  context = await chromium.launchPersistentContext(profileDir, { executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1440, height: 900 } });
}, 120_000);

afterAll(async () => {
  await context?.close();
  await server?.close();
  if (profileDir) fs.rmSync(profileDir, { recursive: true, force: true });
});

describe('web app in a browser', () => {
  it('serves the app for its pages, the editor bundle, and keeps unknown API paths JSON', async () => {
    for (const p of ['/', '/login', '/projects', '/projects/12/data', '/projects/12/label']) {
      const res = await fetch(`${server.url}${p}`);
      expect(res.status, p).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/text\/html/);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(await res.text()).not.toMatch(/<script>(?!<\/script>)/); // no inline script (CSP script-src 'self')
    }
    const editor = await fetch(`${server.url}/static/lsf/1.4.0/main.js`);
    expect(editor.status).toBe(200);
    expect(editor.headers.get('cache-control')).toMatch(/immutable/);
    expect((await fetch(`${server.url}/static/lsf/1.4.0/index.html`)).status).toBe(404);
    expect((await fetch(`${server.url}/assets/..%2Fpackage.json`)).status).toBe(404);
    for (const p of ['/api/no-such-thing', '/api/projects/1/no-such', '/data/no-such']) {
      const res = await call(server, 'GET', p);
      expect(res.status, p).toBe(404);
      expect(res.body).toMatchObject({ status_code: 404 });
    }
  });

  it('a Manager creates and fills a project; an Annotator labels by clicking and skips', { timeout: 180_000 }, async () => {
    const page = await newPage();
    const consoleErrors: string[] = [];
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    // Refused requests (the signed-out whoami, the wrong password, the empty import) log "Failed to load resource"; anything else (a CSP violation, a crash) fails the test.
    page.on('console', (m) => m.type() === 'error' && !m.text().startsWith('Failed to load resource') && consoleErrors.push(m.text()));

    // Log in (the login page is where an anonymous visitor lands).
    await page.goto(`${server.url}/projects`);
    await page.waitForURL(/\/login\?next=%2Fprojects/);
    await shot(page, 'login');
    await page.getByLabel('Email').fill(team.manager.email);
    await page.getByLabel('Password').fill('wrong password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/.+/); // the server's refusal is shown
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((u) => u.pathname === '/projects');
    await page.getByRole('heading', { name: 'Projects', exact: true }).waitFor();
    await page.getByRole('heading', { name: 'No projects yet' }).waitFor();

    // Create a project from the text classification template, in the team's workspace.
    await page.getByRole('link', { name: '+ New project' }).click();
    await page.getByLabel('Name').fill('Review sentiment');
    await page.getByLabel('Description').fill('Is the customer happy?');
    await page.locator('[data-template="imageClassification"]').click();
    expect(await page.getByLabel('Labeling config').inputValue()).toContain('<Image');
    await page.locator('[data-template="textClassification"]').click();
    expect(await page.getByLabel('Labeling config').inputValue()).toContain('name="sentiment"');
    expect(await page.locator('.template').count()).toBeGreaterThanOrEqual(12);
    // The editor previews the config live; the server's parser names what is wrong with a bad one.
    await page.getByTestId('preview').getByText('Positive').first().waitFor({ timeout: 30_000 });
    await shot(page, 'create-project');
    await page.getByLabel('Labeling config').fill('<View><Text name="t" value="$text"/><Choices name="c" toName="nowhere"><Choice value="A"/></Choices></View>');
    await expect.poll(() => page.getByTestId('config-error').textContent().catch(() => '')).toMatch(/nowhere/);
    await page.locator('[data-template="textClassification"]').click();
    await expect.poll(() => page.getByTestId('config-error').count()).toBe(0);
    expect(await page.getByLabel('Workspace').inputValue()).toBe(String(team.workspaceId));
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.waitForURL(/\/projects\/\d+\/data\?import=1/);
    const projectId = Number(/\/projects\/(\d+)\//.exec(page.url())![1]);

    // Import: invalid JSON is refused with a message; a server refusal shows the server's message; then three tasks.
    const drawer = page.getByRole('dialog', { name: 'Import data' });
    await drawer.getByLabel('Or paste JSON').fill('[{"text": ');
    await drawer.getByRole('button', { name: 'Import' }).click();
    await expect.poll(() => drawer.getByRole('alert').textContent()).toMatch(/not valid JSON/);
    await drawer.getByLabel('Or paste JSON').fill('[]');
    await drawer.getByRole('button', { name: 'Import' }).click();
    await expect.poll(() => drawer.getByRole('alert').textContent()).toMatch(/tasks: the input contains no tasks/);
    const texts = ['The delivery was quick and the product works great.', 'Broken on arrival, and support never answered.', 'It does the job.'];
    await drawer.getByLabel('Or paste JSON').fill(JSON.stringify(texts.map((text) => ({ text }))));
    await drawer.getByRole('button', { name: 'Import' }).click();
    await drawer.getByText('Imported 3 tasks').waitFor();
    await drawer.getByRole('button', { name: 'Done' }).click();
    await expect.poll(() => page.getByTestId('task-row').count()).toBe(3);
    expect(await page.getByRole('table', { name: 'Tasks' }).textContent()).toContain('Broken on arrival');

    // Two more projects through the API, so the list looks like a real one.
    for (const [title, description, n, done] of [
      ['Street scenes', 'Boxes around cars and planes in street photos.', 40, 28],
      ['Support tickets — NER', 'People, organizations and places in support tickets.', 25, 7],
    ] as const) {
      const p = await call(server, 'POST', '/api/projects', { token: team.manager.token, body: { title, description, workspace: team.workspaceId } });
      expect(p.status).toBe(201);
      const tasks = Array.from({ length: n }, (_, i) => ({ data: { text: `Item ${i + 1}` }, ...(i < done && { annotations: [{ result: [] }] }) }));
      expect((await call(server, 'POST', `/api/projects/${p.body.id}/import`, { token: team.manager.token, body: tasks })).status).toBe(201);
    }
    await page.reload();
    await page.getByTestId('task-row').first().waitFor();
    await shot(page, 'data-manager');
    await page.getByRole('link', { name: 'Projects' }).first().click();
    await expect.poll(() => page.getByTestId('project-card').count()).toBe(3);
    expect(await page.getByTestId('project-card').filter({ hasText: 'Review sentiment' }).textContent()).toContain('0 of 3 tasks');
    await shot(page, 'projects');
    await logOut(page);

    // The Annotator: no project creation, no import, no data manager; the label stream instead.
    await logIn(page, team.annotator, `/projects/${projectId}/data`);
    await page.getByRole('heading', { name: 'Start labeling' }).waitFor();
    expect(await page.getByRole('button', { name: 'Import' }).count()).toBe(0);
    await page.getByRole('link', { name: 'Open the label stream' }).click();
    await page.waitForURL(`**/projects/${projectId}/label`);

    // The editor renders the task; a choice is picked by clicking and submitted.
    const editor = page.getByTestId('editor');
    await editor.getByText('Positive').first().waitFor({ timeout: 30_000 });
    const firstTask = Number((await page.getByTestId('task-id').textContent())!.replace(/\D/g, ''));
    await editor.getByText('Positive').first().click();
    await editor.locator('.ant-checkbox-wrapper-checked').first().waitFor();
    await page.waitForTimeout(400); // the checkbox's tick animates in
    await shot(page, 'labeling');
    await editor.getByRole('button', { name: 'Submit' }).click();
    await expect.poll(async () => Number(((await page.getByTestId('task-id').textContent().catch(() => '')) ?? '').replace(/\D/g, '')), { timeout: 20_000 }).not.toBe(firstTask);

    // The next task is skipped.
    const secondTask = Number((await page.getByTestId('task-id').textContent())!.replace(/\D/g, ''));
    await editor.getByText('Negative').first().waitFor();
    await editor.getByRole('button', { name: 'Skip' }).click();
    await expect.poll(async () => Number(((await page.getByTestId('task-id').textContent().catch(() => '')) ?? '').replace(/\D/g, '')), { timeout: 20_000 }).not.toBe(secondTask);
    expect(await page.getByText('2 labeled this session').count()).toBe(1);

    // The Annotator reopens their first task by URL and changes the choice: Update changes the same annotation.
    await page.goto(`${server.url}/projects/${projectId}/label?task=${firstTask}`);
    await editor.locator('.ant-checkbox-wrapper-checked').filter({ hasText: 'Positive' }).waitFor({ timeout: 30_000 });
    await editor.getByText('Negative').first().click();
    await editor.locator('.ant-checkbox-wrapper-checked').filter({ hasText: 'Negative' }).waitFor();
    await editor.getByRole('button', { name: 'Update' }).or(editor.getByText('Update', { exact: true })).first().click(); // labelled "submit" by the editor
    await page.waitForURL((u) => u.pathname === `/projects/${projectId}/label` && u.search === '');

    // The API holds Label Studio's result, unchanged, by the Annotator.
    const saved = await call(server, 'GET', `/api/tasks/${firstTask}/annotations`, { token: team.manager.token });
    expect(saved.status).toBe(200);
    expect(saved.body).toHaveLength(1);
    expect(saved.body[0]).toMatchObject({ completed_by: team.annotator.id, was_cancelled: false });
    expect(saved.body[0].result).toEqual([
      expect.objectContaining({ from_name: 'sentiment', to_name: 'review', type: 'choices', value: { choices: ['Negative'] }, id: expect.any(String) }),
    ]);
    const skipped = await call(server, 'GET', `/api/tasks/${secondTask}/annotations`, { token: team.manager.token });
    expect(skipped.body).toEqual([expect.objectContaining({ completed_by: team.annotator.id, was_cancelled: true, result: [] })]);
    expect(consoleErrors).toEqual([]);
    await page.close();
  });

  it('uploads a file; signs up through the invite link; shows an Annotator no management page', { timeout: 120_000 }, async () => {
    const page = await newPage();
    const project = await call(server, 'POST', '/api/projects', { token: team.manager.token, body: { title: 'Uploads', workspace: team.workspaceId, label_config: '<View><Text name="t" value="$text"/><Choices name="c" toName="t"><Choice value="A"/></Choices></View>' } });
    expect(project.status).toBe(201);

    // A Manager imports a JSON file through the drawer (multipart, with the CSRF header).
    await logIn(page, team.manager, `/projects/${project.body.id}/data`);
    await page.getByRole('button', { name: 'Import data' }).click(); // the empty table's call to action
    const drawer = page.getByRole('dialog', { name: 'Import data' });
    await drawer.locator('input[type=file]').setInputFiles({ name: 'tasks.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify([{ text: 'one' }, { text: 'two' }])) });
    await drawer.getByText('tasks.json').waitFor();
    await drawer.getByRole('button', { name: 'Import' }).click();
    await drawer.getByText('Imported 2 tasks').waitFor();
    await drawer.getByRole('button', { name: 'Done' }).click();
    await expect.poll(() => page.getByTestId('task-row').count()).toBe(2);
    await logOut(page);

    // Someone invited signs up through the link; the account waits for a role, so signing in is refused with the server's reason.
    const admin = await makeMember(server.deps, team.organizationId, 'AD');
    const invite = await call(server, 'GET', '/api/invite', { token: admin.token });
    expect(invite.status).toBe(200);
    await page.goto(`${server.url}${invite.body.invite_url}`);
    await page.getByRole('heading', { name: 'Join your team' }).waitFor();
    await shot(page, 'signup');
    const email = `invitee-${Date.now()}@example.test`;
    await page.getByLabel('First name').fill('Ines');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('abc');
    await page.getByRole('button', { name: 'Create account' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/.+/);
    await page.getByLabel('Password').fill('a quiet meadow under seven moons');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'Account created' }).waitFor();
    const login = await call(server, 'POST', '/api/auth/login', { body: { email, password: 'a quiet meadow under seven moons' } });
    expect(login.status).toBe(403);

    // The Annotator: no "New project", no creation page, no data manager or import by URL; the API agrees.
    await logIn(page, team.annotator, '/projects');
    await page.getByTestId('project-card').first().waitFor();
    expect(await page.getByRole('link', { name: '+ New project' }).count()).toBe(0);
    await page.goto(`${server.url}/projects/new`);
    await page.getByRole('heading', { name: 'Your role cannot create projects' }).waitFor();
    await page.goto(`${server.url}/projects/${project.body.id}/data`);
    await page.getByRole('heading', { name: 'Start labeling' }).waitFor();
    expect(await page.getByRole('table').count()).toBe(0);
    expect(await page.getByRole('button', { name: /Import/ }).count()).toBe(0);
    expect((await call(server, 'GET', `/api/tasks?project=${project.body.id}`, { token: team.annotator.token })).status).toBe(403);
    await page.close();
  });
});
