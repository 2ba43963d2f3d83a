/**
 * The labeling page's helpers around the Label Studio editor, in a real browser against the
 * real server (SQLite): a task with a prediction opens pre-filled from it and the submitted
 * annotation keeps its result and `parent_prediction`; a choice clicked becomes a server draft
 * that a reload restores (also when the page is left before the autosave fired) and that
 * submitting removes; Ctrl+Enter submits; "?" lists the shortcuts but not while typing; the
 * project's instructions show sanitized in a panel that can be hidden and brought back; with
 * predictions turned off the editor starts empty; Ctrl+Space skips. Changes to a saved
 * annotation are drafted and restored the same way, and updating drops the draft. A Reviewer's
 * stream loads 50 tasks one request each, the next ones on demand, and accepts and rejects.
 */
import type { Locator } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeMember, makeTeam, PASSWORD } from '../factories.js';
import { call, startServer, type TestServer } from '../harness.js';
import { launchBrowser, logIn, shot, watchErrors, type Browser, newPage } from './browser-kit.js';

const CONFIG = `<View>
  <Text name="review" value="$text"/>
  <Choices name="sentiment" toName="review" choice="single">
    <Choice value="Positive"/>
    <Choice value="Negative"/>
    <Choice value="Neutral"/>
  </Choices>
</View>`;

const INSTRUCTIONS = '<p>Read the <b>whole</b> review first.</p><ul><li>Sarcasm counts as <em>Negative</em></li></ul><script>window.__pwned = 1</script><img src="x" onerror="window.__pwned = 2"><a href="javascript:window.__pwned=3">bad link</a>';

let server: TestServer;
let browser: Browser;
let team: Awaited<ReturnType<typeof makeTeam>>;
let projectId: number;
/** Task ids by their text. */
const tasks: Record<string, number> = {};
let predictionId: number;

beforeAll(async () => {
  browser = await launchBrowser();
  server = await startServer('sqlite');
  team = await makeTeam(server.deps);
  const token = team.manager.token;
  const project = await call(server, 'POST', '/api/projects', { token, body: { title: 'Reviews', workspace: team.workspaceId, label_config: CONFIG, show_instruction: true, expert_instruction: INSTRUCTIONS } });
  expect(project.status).toBe(201);
  projectId = project.body.id;
  const prediction = { model_version: 'sentiment-v1', score: 0.9, result: [{ id: 'p1', from_name: 'sentiment', to_name: 'review', type: 'choices', value: { choices: ['Positive'] } }] };
  const body = [
    { data: { text: 'predicted' }, predictions: [prediction] },
    { data: { text: 'drafted' } },
    { data: { text: 'left early' } },
    { data: { text: 'no predictions wanted' }, predictions: [prediction] },
  ];
  expect((await call(server, 'POST', `/api/projects/${projectId}/import`, { token, body })).status).toBe(201);
  const list = await call(server, 'GET', `/api/tasks?project=${projectId}&page_size=10`, { token });
  for (const t of list.body.tasks as { id: number; data: { text: string } }[]) tasks[t.data.text] = t.id;
  const detail = await call(server, 'GET', `/api/tasks/${tasks.predicted}`, { token });
  predictionId = detail.body.predictions[0].id;
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** The editor's checked choice with this label. */
const checked = (editor: Locator, label: string) => editor.locator('.ant-checkbox-wrapper-checked, .ant-radio-wrapper-checked').filter({ hasText: label });
const annotationsOf = async (taskId: number) => (await call(server, 'GET', `/api/tasks/${taskId}/annotations`, { token: team.manager.token })).body as { result: unknown[]; parent_prediction: number | null; completed_by: number; was_cancelled: boolean }[];
const draftsOf = async (taskId: number) => (await call(server, 'GET', `/api/tasks/${taskId}/drafts`, { token: team.manager.token })).body as { result: unknown[] }[];
const choiceOf = (result: unknown[]) => (result as { value: { choices: string[] } }[]).map((r) => r.value.choices).flat();

describe('labeling page features', () => {
  it('shows the instructions sanitized, lists the shortcuts, and starts from the prediction; Ctrl+Enter submits', { timeout: 120_000 }, async () => {
    const page = await newPage(browser);
    const errors = watchErrors(page);
    const label = `/projects/${projectId}/label`;
    await logIn(page, server.url, team.manager.email, PASSWORD, label);
    await page.goto(`${server.url}${label}?task=${tasks.predicted}`);
    const editor = page.getByTestId('editor');

    // Instructions: the allowed markup stays, script, event handlers and javascript: links do not.
    const panel = page.getByTestId('instructions');
    await panel.getByText('Sarcasm counts as').waitFor();
    expect(await panel.locator('b').textContent()).toBe('whole');
    expect(await panel.locator('script, img, [onerror]').count()).toBe(0);
    await panel.getByText('bad link').waitFor();
    expect(await panel.locator('a[href]').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();

    // The prediction pre-fills the new annotation.
    await checked(editor, 'Positive').waitFor({ timeout: 30_000 });
    await shot(page, 'labeling-prediction-instructions');
    await panel.getByRole('button', { name: 'Hide' }).click();
    await expect.poll(() => panel.count()).toBe(0);
    await page.getByRole('button', { name: 'Instructions' }).click();
    await panel.waitFor();

    // "?" opens the list of shortcuts (Escape closes it), but not while typing in a text field.
    await page.locator('body').click({ position: { x: 5, y: 300 } });
    await page.keyboard.press('Shift+Slash');
    const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await help.getByText('Submit (or update) the annotation').waitFor();
    await shot(page, 'labeling-shortcuts');
    await page.keyboard.press('Escape');
    await expect.poll(() => help.count()).toBe(0);
    await page.evaluate("document.body.append(Object.assign(document.createElement('input'), { id: 'typing-probe' }))");
    await page.locator('#typing-probe').fill('');
    await page.locator('#typing-probe').press('Shift+Slash');
    expect(await page.locator('#typing-probe').inputValue()).toBe('?');
    expect(await help.count()).toBe(0);
    await page.evaluate("document.getElementById('typing-probe').remove()");

    // Ctrl+Enter submits the pre-filled annotation, which records the prediction it came from.
    await page.locator('body').click({ position: { x: 5, y: 300 } });
    await page.keyboard.press('Control+Enter');
    await page.waitForURL((u) => u.pathname === label && u.search === '');
    const saved = await annotationsOf(tasks.predicted!);
    expect(saved).toHaveLength(1);
    expect(saved[0]).toMatchObject({ completed_by: team.manager.id, parent_prediction: predictionId });
    expect(choiceOf(saved[0]!.result)).toEqual(['Positive']);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('keeps a draft on the server, restores it after a reload, and drops it on submit', { timeout: 120_000 }, async () => {
    const page = await newPage(browser);
    const errors = watchErrors(page);
    await logIn(page, server.url, team.manager.email, PASSWORD, `/projects/${projectId}/label`);
    const editor = page.getByTestId('editor');

    // A choice clicked becomes a draft a few seconds later; the page says when.
    await page.goto(`${server.url}/projects/${projectId}/label?task=${tasks.drafted}`);
    await editor.getByText('Negative').first().waitFor({ timeout: 30_000 });
    await editor.getByText('Negative').first().click();
    await checked(editor, 'Negative').waitFor();
    await expect.poll(() => page.getByTestId('draft-state').textContent().catch(() => ''), { timeout: 15_000 }).toMatch(/^Draft saved \d{1,2}:\d{2}/);
    expect((await draftsOf(tasks.drafted!)).map((d) => choiceOf(d.result))).toEqual([['Negative']]);
    await page.reload();
    await checked(editor, 'Negative').waitFor({ timeout: 30_000 });
    await page.getByTestId('draft-state').waitFor();
    await shot(page, 'labeling-draft-restored');

    // Submitting (Ctrl+Enter) saves the draft's result and the server deletes the draft.
    await page.keyboard.press('Control+Enter');
    await page.waitForURL((u) => u.search === '');
    expect(choiceOf((await annotationsOf(tasks.drafted!))[0]!.result)).toEqual(['Negative']);
    expect(await draftsOf(tasks.drafted!)).toEqual([]);

    // Changes to a saved annotation are drafted too; Ctrl+Enter then updates it and the draft goes.
    await page.goto(`${server.url}/projects/${projectId}/label?task=${tasks.drafted}`);
    await checked(editor, 'Negative').waitFor({ timeout: 30_000 });
    await editor.getByText('Positive').first().click();
    await checked(editor, 'Positive').waitFor();
    await expect.poll(async () => (await draftsOf(tasks.drafted!)).map((d) => choiceOf(d.result)), { timeout: 15_000 }).toEqual([['Positive']]);
    await page.reload();
    await checked(editor, 'Positive').waitFor({ timeout: 30_000 });
    await page.keyboard.press('Control+Enter');
    await page.waitForURL((u) => u.search === '');
    const updated = await annotationsOf(tasks.drafted!);
    expect(updated.map((a) => choiceOf(a.result))).toEqual([['Positive']]);
    await expect.poll(() => draftsOf(tasks.drafted!)).toEqual([]);

    // Leaving before the autosave fires still keeps the change (sent as the page unloads).
    await page.goto(`${server.url}/projects/${projectId}/label?task=${tasks['left early']}`);
    await editor.getByText('Neutral').first().waitFor({ timeout: 30_000 });
    await editor.getByText('Neutral').first().click();
    await checked(editor, 'Neutral').waitFor();
    await page.reload();
    await checked(editor, 'Neutral').waitFor({ timeout: 30_000 });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('starts empty when the project does not use predictions; Ctrl+Space skips', { timeout: 60_000 }, async () => {
    const off = await call(server, 'PATCH', `/api/projects/${projectId}`, { token: team.manager.token, body: { show_collab_predictions: false, show_instruction: false } });
    expect(off.status).toBe(200);
    const page = await newPage(browser);
    await logIn(page, server.url, team.manager.email, PASSWORD, `/projects/${projectId}/label`);
    await page.goto(`${server.url}/projects/${projectId}/label?task=${tasks['no predictions wanted']}`);
    const editor = page.getByTestId('editor');
    await editor.getByText('Positive').first().waitFor({ timeout: 30_000 });
    await page.waitForTimeout(500);
    expect(await checked(editor, 'Positive').count()).toBe(0);
    expect(await page.getByTestId('instructions').count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Instructions' }).count()).toBe(0);

    // Ctrl+Space skips: a cancelled annotation.
    await page.locator('body').click({ position: { x: 5, y: 600 } });
    await page.keyboard.press('Control+Space');
    await page.waitForURL((u) => u.search === '');
    expect(await annotationsOf(tasks['no predictions wanted']!)).toEqual([expect.objectContaining({ was_cancelled: true, result: [] })]);
    await page.close();
  });

  it('gives a Reviewer the stream 50 tasks at a time, with Accept and Reject', { timeout: 120_000 }, async () => {
    const token = team.manager.token;
    const project = await call(server, 'POST', '/api/projects', { token, body: { title: 'Many reviews', workspace: team.workspaceId, label_config: CONFIG } });
    const annotated = Array.from({ length: 53 }, (_, i) => ({ data: { text: `review ${i + 1}` }, annotations: [{ result: [{ id: `r${i}`, from_name: 'sentiment', to_name: 'review', type: 'choices', value: { choices: ['Neutral'] } }] }] }));
    expect((await call(server, 'POST', `/api/projects/${project.body.id}/import`, { token, body: [...annotated, { data: { text: 'not annotated' } }] })).status).toBe(201);
    const reviewer = await makeMember(server.deps, team.organizationId, 'RE');
    await server.deps.db.insertInto('workspace_members').values({ workspace_id: team.workspaceId, user_id: reviewer.id, created_at: new Date().toISOString() }).execute();

    const page = await newPage(browser);
    const errors = watchErrors(page);
    const requests: string[] = [];
    page.on('request', (r) => r.url().includes('/api/tasks') && requests.push(new URL(r.url()).pathname + new URL(r.url()).search));
    await logIn(page, server.url, reviewer.email, PASSWORD, `/projects/${project.body.id}/review`);
    // The first page: 50 tasks, each fetched on its own; the rest wait for "Load the next tasks".
    await expect.poll(() => page.getByTestId('review-progress').textContent(), { timeout: 30_000 }).toMatch(/^50 of 53 annotated tasks loaded/);
    await page.getByRole('heading', { name: 'To review · 50' }).waitFor();
    expect(requests.filter((r) => r.startsWith('/api/tasks?')).every((r) => r.includes('page_size=50'))).toBe(true);
    expect(requests.filter((r) => /^\/api\/tasks\/\d+$/.test(r))).toHaveLength(50);
    await page.getByRole('button', { name: 'Load the next tasks' }).click();
    await expect.poll(() => page.getByTestId('review-progress').textContent()).toMatch(/^53 of 53 annotated tasks loaded/);
    await page.getByRole('heading', { name: 'To review · 53' }).waitFor();

    // Accept the first, reject the second with a comment; the queue moves on by itself.
    const first = Number((await page.getByTestId('review-task').textContent())!.match(/annotation #(\d+)/)![1]);
    await page.getByTestId('review-editor').getByText('Neutral').first().waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Accept' }).click();
    await page.getByRole('heading', { name: 'To review · 52' }).waitFor();
    const second = Number((await page.getByTestId('review-task').textContent())!.match(/annotation #(\d+)/)![1]);
    expect(second).not.toBe(first);
    await page.getByLabel('Comment for the annotator').fill('Not neutral at all.');
    await page.getByRole('button', { name: 'Reject' }).click();
    await page.getByRole('heading', { name: 'To review · 51' }).waitFor();
    await shot(page, 'review-stream');
    const reviews = (await call(server, 'GET', `/api/annotation-reviews?annotation__task__project=${project.body.id}`, { token })).body as { annotation: number; accepted: boolean; comment: string | null }[];
    expect(reviews).toEqual(
      expect.arrayContaining([expect.objectContaining({ annotation: first, accepted: true }), expect.objectContaining({ annotation: second, accepted: false, comment: 'Not neutral at all.' })]),
    );
    expect(errors).toEqual([]);
    await page.close();
  });
});
