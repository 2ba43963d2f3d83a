/**
 * "Label selected" in a real browser against the real server (SQLite): 3 of 10 tasks picked in
 * the data manager are labeled one after the other with Ctrl+Enter — each submission lands on
 * the next selected task (in id order, the data manager's default), "Task k of N selected" says
 * where the user is, a reload stays in the selection, and the exhausted selection shows a
 * finished state; the 7 other tasks get nothing. Then a Reviewer works the review stream with
 * the keyboard: "?" lists the shortcuts, Ctrl+Enter accepts, Ctrl+Backspace first moves to the
 * comment field and then rejects with the comment typed there. Last, a task passed over with
 * Ctrl+Shift+→ waits until the rest of the selection is labeled, then can be labeled too.
 */
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeMember, makeTeam, PASSWORD, type Member } from '../factories.js';
import { call, startServer, type TestServer } from '../harness.js';
import { launchBrowser, logIn, shot, watchErrors, type Browser, newPage } from './browser-kit.js';

const CONFIG = `<View>
  <Text name="review" value="$text"/>
  <Choices name="sentiment" toName="review" choice="single">
    <Choice value="Positive"/>
    <Choice value="Negative"/>
  </Choices>
</View>`;

let server: TestServer;
let browser: Browser;
let team: Awaited<ReturnType<typeof makeTeam>>;
let reviewer: Member;
let projectId: number;
/** The 10 task ids, in id order. */
let ids: number[] = [];

beforeAll(async () => {
  browser = await launchBrowser();
  server = await startServer('sqlite');
  team = await makeTeam(server.deps);
  const token = team.manager.token;
  const project = await call(server, 'POST', '/api/projects', { token, body: { title: 'Selected reviews', workspace: team.workspaceId, label_config: CONFIG } });
  expect(project.status).toBe(201);
  projectId = project.body.id;
  const body = Array.from({ length: 10 }, (_, i) => ({ data: { text: `Review number ${i + 1}` } }));
  expect((await call(server, 'POST', `/api/projects/${projectId}/import`, { token, body })).status).toBe(201);
  const list = await call(server, 'GET', `/api/tasks?project=${projectId}&page_size=10`, { token });
  ids = (list.body.tasks as { id: number }[]).map((t) => t.id).sort((a, b) => a - b);
  expect(ids).toHaveLength(10);
  reviewer = await makeMember(server.deps, team.organizationId, 'RE');
  await server.deps.db.insertInto('workspace_members').values({ workspace_id: team.workspaceId, user_id: reviewer.id, created_at: new Date().toISOString() }).execute();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const checked = (editor: Locator, label: string) => editor.locator('.ant-checkbox-wrapper-checked, .ant-radio-wrapper-checked').filter({ hasText: label });
const annotationsOf = async (taskId: number) => (await call(server, 'GET', `/api/tasks/${taskId}/annotations`, { token: team.manager.token })).body as { id: number; completed_by: number; was_cancelled: boolean; result: unknown[] }[];
const onTask = (page: Page, taskId: number) => page.waitForURL((u) => u.pathname === `/projects/${projectId}/label` && u.searchParams.get('task') === String(taskId) && u.searchParams.has('selection'));

describe('labeling a data-manager selection', () => {
  it('goes through the 3 selected tasks with Ctrl+Enter, then shows the finished state', { timeout: 180_000 }, async () => {
    const page = await newPage(browser);
    const errors = watchErrors(page);
    await logIn(page, server.url, team.manager.email, PASSWORD, `/projects/${projectId}/data`);
    await page.getByTestId('task-row').first().waitFor();
    const selected = [ids[8]!, ids[1]!, ids[4]!]; // picked out of order; labeled in id order
    for (const t of selected) await page.getByLabel(`Select task ${t}`, { exact: true }).check();
    await page.getByRole('region', { name: 'Selection' }).getByText('3 selected').waitFor();
    await page.getByRole('button', { name: 'Label selected' }).click();

    const order = [...selected].sort((a, b) => a - b);
    const editor = page.getByTestId('editor');
    for (const [k, taskId] of order.entries()) {
      await onTask(page, taskId);
      await expect.poll(() => page.getByTestId('task-id').textContent()).toBe(`Task #${taskId}`);
      await expect.poll(() => page.getByTestId('selection-progress').textContent().catch(() => '')).toBe(`Task ${k + 1} of 3 selected`);
      if (k === 1) {
        // A reload stays in the selection (it is kept for the tab, named in the URL).
        await page.reload();
        await expect.poll(() => page.getByTestId('selection-progress').textContent().catch(() => '')).toBe('Task 2 of 3 selected');
        await shot(page, 'label-selection-progress');
      }
      await editor.getByText('Negative').first().waitFor({ timeout: 30_000 });
      await editor.getByText('Negative').first().click();
      await checked(editor, 'Negative').waitFor();
      await page.keyboard.press('Control+Enter');
      await expect.poll(async () => (await annotationsOf(taskId)).length).toBe(1);
    }

    // Finished: nothing of the selection is left; the way back leads to the data manager.
    await page.getByTestId('selection-done').waitFor();
    expect(await page.getByTestId('selection-done').textContent()).toContain('among the 3 tasks you selected');
    await shot(page, 'label-selection-done');
    for (const t of order) {
      const saved = await annotationsOf(t);
      expect(saved).toEqual([expect.objectContaining({ completed_by: team.manager.id, was_cancelled: false })]);
      expect(saved[0]!.result).toHaveLength(1);
    }
    for (const t of ids.filter((i) => !order.includes(i))) expect(await annotationsOf(t)).toEqual([]);
    await page.locator('.empty').getByRole('link', { name: 'Back to data manager' }).click();
    await page.waitForURL((u) => u.pathname === `/projects/${projectId}/data`);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('lets a Reviewer accept with Ctrl+Enter and reject with Ctrl+Backspace (comment first)', { timeout: 120_000 }, async () => {
    const page = await newPage(browser);
    const errors = watchErrors(page);
    await logIn(page, server.url, reviewer.email, PASSWORD, `/projects/${projectId}/review`);
    await page.getByRole('heading', { name: 'To review · 3' }).waitFor();
    await page.getByTestId('review-editor').getByText('Negative').first().waitFor({ timeout: 30_000 });
    const shown = async () => Number((await page.getByTestId('review-task').textContent())!.match(/annotation #(\d+)/)![1]);
    const away = () => page.evaluate('document.activeElement && document.activeElement.blur()');

    // "?" lists the review shortcuts (and not the editor's labeling ones).
    await away();
    await page.keyboard.press('Shift+Slash');
    const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await help.getByText('Accept the annotation').waitFor();
    expect(await help.getByText('Pick a label or choice').count()).toBe(0);
    await shot(page, 'review-shortcuts');
    await page.keyboard.press('Escape');
    await expect.poll(() => help.count()).toBe(0);

    // Ctrl+Enter accepts.
    const first = await shown();
    await away();
    await page.keyboard.press('Control+Enter');
    await page.getByRole('heading', { name: 'To review · 2' }).waitFor();

    // Ctrl+Backspace with no comment: the comment field gets the focus, nothing is sent yet.
    const second = await shown();
    expect(second).not.toBe(first);
    await away();
    await page.keyboard.press('Control+Backspace');
    await expect.poll(() => page.evaluate('document.activeElement && document.activeElement.id')).toBe('review-comment');
    await page.keyboard.type('Clearly positive?');
    expect(await page.getByLabel('Comment for the annotator').inputValue()).toBe('Clearly positive?'); // "?" typed, not the help
    await page.keyboard.press('Control+Backspace');
    await page.getByRole('heading', { name: 'To review · 1' }).waitFor();

    const reviews = (await call(server, 'GET', `/api/annotation-reviews?annotation__task__project=${projectId}`, { token: team.manager.token })).body as { annotation: number; accepted: boolean; comment: string | null }[];
    expect(reviews).toHaveLength(2);
    expect(reviews).toEqual(
      expect.arrayContaining([expect.objectContaining({ annotation: first, accepted: true, comment: null }), expect.objectContaining({ annotation: second, accepted: false, comment: 'Clearly positive?' })]),
    );
    expect(errors).toEqual([]);
    await page.close();
  });

  it('passes over a task with Ctrl+Shift+→ and comes back to it at the end', { timeout: 120_000 }, async () => {
    const page = await newPage(browser);
    const errors = watchErrors(page);
    await logIn(page, server.url, team.manager.email, PASSWORD, `/projects/${projectId}/data`);
    await page.getByTestId('task-row').first().waitFor();
    const [a, b] = [ids[0]!, ids[2]!];
    for (const t of [a, b]) await page.getByLabel(`Select task ${t}`, { exact: true }).check();
    await page.getByRole('button', { name: 'Label selected' }).click();
    await onTask(page, a);
    const editor = page.getByTestId('editor');
    await editor.getByText('Positive').first().waitFor({ timeout: 30_000 });
    await page.keyboard.press('Control+Shift+ArrowRight');
    await onTask(page, b);
    await expect.poll(() => page.getByTestId('selection-progress').textContent().catch(() => '')).toBe('Task 2 of 2 selected');
    await editor.getByText('Positive').first().waitFor({ timeout: 30_000 });
    await editor.getByText('Positive').first().click();
    await checked(editor, 'Positive').waitFor();
    await page.keyboard.press('Control+Enter');
    await page.getByTestId('selection-done').waitFor();
    expect(await page.getByTestId('selection-done').textContent()).toContain('apart from 1 task you passed over');
    expect(await annotationsOf(a)).toEqual([]);

    await page.getByRole('button', { name: 'Label the 1 task passed over' }).click();
    await onTask(page, a);
    await editor.getByText('Positive').first().waitFor({ timeout: 30_000 });
    await editor.getByText('Positive').first().click();
    await checked(editor, 'Positive').waitFor();
    await page.keyboard.press('Control+Enter');
    await page.getByTestId('selection-done').waitFor();
    expect(await page.getByTestId('selection-done').textContent()).not.toContain('passed over');
    expect((await annotationsOf(a)).map((x) => x.completed_by)).toEqual([team.manager.id]);
    expect(errors).toEqual([]);
    await page.close();
  });
});
