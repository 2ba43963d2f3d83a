/**
 * The web app's whole story in a real browser against the real server (SQLite): an Owner makes a
 * workspace and a project from a template (image boxes + a choice), uploads two PNGs through the
 * import panel (served back from /data/upload/…), shares the invite link; someone signs up
 * through it, the Owner gives them the Annotator role and adds them and a Reviewer to the
 * project's workspace; the Annotator labels two tasks by clicking (a box drawn with the mouse and
 * a choice); the Reviewer rejects one with a comment; the Owner exports JSON and the downloaded
 * file holds the annotations. A second test shows an Annotator cannot reach the data manager,
 * review, export or settings pages by URL, nor the organization page.
 */
import fs from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeMember, makeOrganization, makeWorkspace, PASSWORD, type Member } from '../factories.js';
import { call, startServer, type TestServer } from '../harness.js';
import { launchBrowser, logIn, logOut, makePng, shot, watchErrors, type Browser, newPage } from './browser-kit.js';

const CONFIG = `<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="label" toName="image">
    <Label value="Car" background="#ef4444"/>
    <Label value="Tree" background="#10b981"/>
  </RectangleLabels>
  <Choices name="weather" toName="image" choice="single">
    <Choice value="Sunny"/>
    <Choice value="Rainy"/>
  </Choices>
</View>`;

let server: TestServer;
let browser: Browser;
let owner: Member;
let reviewer: Member;
let orgId: number;

beforeAll(async () => {
  browser = await launchBrowser();
  server = await startServer('sqlite');
  const org = await makeOrganization(server.deps);
  orgId = org.id;
  owner = org.owner;
  reviewer = await makeMember(server.deps, org.id, 'RE');
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const taskIdOn = async (page: Page) => Number(((await page.getByTestId('task-id').textContent().catch(() => '')) ?? '').replace(/\D/g, ''));

describe('the labeling story in a browser', () => {
  it('Owner sets up, Annotator joins and labels, Reviewer rejects, Owner exports', { timeout: 300_000 }, async () => {
    const page = await newPage(browser);
    const errors = watchErrors(page);
    const base = server.url;

    // The Owner creates a shared workspace on the organization page.
    await logIn(page, base, owner.email, PASSWORD, '/organization/workspaces');
    await page.getByRole('heading', { name: 'No shared workspaces' }).waitFor();
    await page.getByLabel('Workspace name').fill('Vision team');
    await page.getByRole('button', { name: 'Create workspace' }).click();
    await page.getByTestId('workspace').filter({ hasText: 'Vision team' }).waitFor();
    await page.getByTestId('workspace').filter({ hasText: 'Vision team' }).getByText(owner.email).waitFor(); // its creator is its first member
    await shot(page, 'organization-workspaces');

    // A project from the object-detection template, with a weather choice added to its config.
    await page.getByRole('link', { name: 'Projects', exact: true }).first().click();
    await page.getByRole('link', { name: '+ New project' }).click();
    await page.getByLabel('Name').fill('Street scenes');
    await page.getByLabel('Description').fill('Boxes around cars; the weather of each scene.');
    await page.locator('[data-template="boundingBoxes"]').click();
    expect(await page.getByLabel('Labeling config').inputValue()).toContain('<RectangleLabels');
    await page.getByLabel('Labeling config').fill(CONFIG);
    await page.getByTestId('preview').getByText('Sunny').first().waitFor({ timeout: 30_000 });
    expect(await page.locator('#workspace option:checked').textContent()).toBe('Vision team');
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.waitForURL(/\/projects\/\d+\/data\?import=1/);
    const projectId = Number(/\/projects\/(\d+)\//.exec(page.url())![1]);

    // Two PNGs uploaded through the import panel: each becomes a task pointing at /data/upload/….
    const drawer = page.getByRole('dialog', { name: 'Import data' });
    await drawer.locator('input[type=file]').setInputFiles([
      { name: 'street-1.png', mimeType: 'image/png', buffer: makePng() },
      { name: 'street-2.png', mimeType: 'image/png', buffer: makePng(480, 320, [0x40, 0x60]) },
    ]);
    await drawer.getByText('street-2.png').waitFor();
    await drawer.getByRole('button', { name: 'Import' }).click();
    await drawer.getByText('Imported 2 tasks').waitFor();
    await drawer.getByRole('button', { name: 'Done' }).click();
    await expect.poll(() => page.getByTestId('task-row').count()).toBe(2);
    const thumb = page.getByTestId('task-row').first().locator('img.thumb');
    expect(await thumb.getAttribute('src')).toMatch(/^\/data\/upload\//);
    await expect.poll(() => thumb.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)).toBe(480); // the upload is served back

    // The invite link, from the organization page.
    await page.getByRole('link', { name: 'Organization', exact: true }).click();
    const inviteBox = page.getByTestId('invite-link');
    await expect.poll(() => inviteBox.inputValue()).toMatch(/\/user\/signup\/?\?token=/);
    const inviteUrl = await inviteBox.inputValue();
    await shot(page, 'organization-members');
    await logOut(page);

    // Someone signs up through it.
    const email = `ines-${Date.now()}@example.test`;
    const password = 'a quiet meadow under seven moons';
    await page.goto(inviteUrl);
    await page.getByRole('heading', { name: 'Join your team' }).waitFor();
    await page.getByLabel('First name').fill('Ines');
    await page.getByLabel('Last name').fill('Annotator');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'Account created' }).waitFor();

    // The Owner gives her the Annotator role on the members page…
    await logIn(page, base, owner.email, PASSWORD, '/organization');
    const roleSelect = page.getByLabel(`Role of ${email}`);
    expect(await roleSelect.inputValue()).toBe('NO');
    expect(await page.getByTestId('member-row').filter({ hasText: email }).textContent()).toContain('Ines Annotator');
    await roleSelect.selectOption('AN');
    await expect.poll(async () => (await call(server, 'GET', `/api/organizations/${orgId}/memberships?page_size=100`, { token: owner.token })).body.results.find((m: { user: { email: string } }) => m.user.email === email)?.role).toBe('AN');
    // …and adds her and the Reviewer to the project's workspace from the project settings.
    await page.goto(`${base}/projects/${projectId}/settings/members`);
    const addPerson = page.getByLabel('Person to add', { exact: true });
    for (const who of [email, reviewer.email]) {
      await addPerson.locator('option', { hasText: who }).waitFor({ state: 'attached' });
      const value = await addPerson.locator('option', { hasText: who }).getAttribute('value');
      await addPerson.selectOption(value!);
      await page.getByRole('button', { name: 'Add member' }).click();
      await page.getByTestId('workspace-member').filter({ hasText: who }).waitFor();
    }
    await shot(page, 'project-settings-members');
    // General settings: a description and a colour, saved.
    await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'General' }).click();
    await page.getByLabel('Description').fill('Cars in street photos, and the weather.');
    await page.getByRole('button', { name: '#10B981' }).click();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
    expect((await call(server, 'GET', `/api/projects/${projectId}`, { token: owner.token })).body).toMatchObject({ description: 'Cars in street photos, and the weather.', color: '#10B981' });
    await shot(page, 'project-settings-general');
    // The labeling config with its live preview; a config the server refuses names the problem.
    await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Labeling interface' }).click();
    await page.getByTestId('preview').getByText('Sunny').first().waitFor({ timeout: 30_000 });
    await page.getByLabel('Labeling config').fill(CONFIG.replace('toName="image" choice', 'toName="nowhere" choice'));
    await expect.poll(() => page.getByTestId('config-error').textContent().catch(() => '')).toMatch(/nowhere/);
    await page.getByLabel('Labeling config').fill(CONFIG);
    await expect.poll(() => page.getByTestId('config-error').count()).toBe(0);
    await page.waitForTimeout(300);
    await shot(page, 'project-settings-labeling');
    await logOut(page);

    // The Annotator labels the first task: a box drawn with the mouse after picking "Car", and "Sunny".
    await logIn(page, base, email, password, `/projects/${projectId}/label`);
    const editor = page.getByTestId('editor');
    await editor.getByText('Sunny').first().waitFor({ timeout: 30_000 });
    const first = await taskIdOn(page);
    await editor.getByText('Car').first().click();
    const image = editor.locator('img[src*="/data/upload/"]').first();
    await expect.poll(() => image.evaluate((img) => (img as unknown as { complete: boolean; naturalWidth: number }).complete && (img as unknown as { naturalWidth: number }).naturalWidth)).toBe(480);
    const box = (await image.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.2, box.y + box.height * 0.5);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.35, box.y + box.height * 0.62, { steps: 5 });
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.75, { steps: 5 });
    await page.mouse.up();
    await editor.getByText('Sunny').first().click();
    await editor.locator('.ant-checkbox-wrapper-checked, .ant-radio-wrapper-checked').first().waitFor();
    await page.waitForTimeout(300);
    await shot(page, 'labeling-box');
    await editor.getByRole('button', { name: 'Submit' }).click();
    await expect.poll(() => taskIdOn(page), { timeout: 20_000 }).not.toBe(first);

    // The second task: a choice only.
    const second = await taskIdOn(page);
    await editor.getByText('Rainy').first().waitFor();
    await editor.getByText('Rainy').first().click();
    await editor.locator('.ant-checkbox-wrapper-checked, .ant-radio-wrapper-checked').first().waitFor();
    await editor.getByRole('button', { name: 'Submit' }).click();
    await page.getByRole('heading', { name: 'All done' }).waitFor();

    const saved = await call(server, 'GET', `/api/tasks/${first}/annotations`, { token: owner.token });
    expect(saved.body).toHaveLength(1);
    const results = saved.body[0].result as { type: string; value: Record<string, unknown>; from_name: string }[];
    const rect = results.find((r) => r.type === 'rectanglelabels');
    expect(rect?.value).toMatchObject({ rectanglelabels: ['Car'] });
    expect(rect!.value.x as number).toBeGreaterThan(10);
    expect(rect!.value.width as number).toBeGreaterThan(15);
    expect(results.find((r) => r.type === 'choices')?.value).toEqual({ choices: ['Sunny'] });
    const secondSaved = await call(server, 'GET', `/api/tasks/${second}/annotations`, { token: owner.token });
    expect(secondSaved.body[0].result).toEqual([expect.objectContaining({ type: 'choices', value: { choices: ['Rainy'] } })]);
    await logOut(page);

    // The Reviewer rejects the first annotation with a comment, then accepts the other.
    await logIn(page, base, reviewer.email, PASSWORD, `/projects/${projectId}/review`);
    await page.getByRole('heading', { name: 'To review · 2' }).waitFor();
    await page.getByTestId('review-item').filter({ hasText: `Task #${first}` }).click();
    await page.getByTestId('review-editor').getByText('Sunny').first().waitFor({ timeout: 30_000 });
    await page.waitForTimeout(300);
    await shot(page, 'review');
    await page.getByLabel('Comment for the annotator').fill('The box misses the car’s bumper.');
    await page.getByRole('button', { name: 'Reject' }).click();
    await page.getByRole('heading', { name: 'To review · 1' }).waitFor();
    await page.getByRole('button', { name: 'Accept' }).click();
    await page.getByRole('heading', { name: 'Nothing to review' }).waitFor();
    const firstAnnotation = saved.body[0].id as number;
    const reviews = await call(server, 'GET', `/api/annotation-reviews?annotation=${firstAnnotation}`, { token: owner.token });
    expect(reviews.body).toEqual([expect.objectContaining({ accepted: false, comment: 'The box misses the car’s bumper.', created_by: reviewer.id })]);
    // The Reviewer sees no export or settings tab.
    await page.goto(`${base}/projects/${projectId}/data`);
    await page.getByRole('navigation', { name: 'Project' }).getByRole('link', { name: 'Review' }).waitFor();
    expect(await page.getByRole('navigation', { name: 'Project' }).getByRole('link', { name: 'Export' }).count()).toBe(0);
    expect(await page.getByRole('navigation', { name: 'Project' }).getByRole('link', { name: 'Settings' }).count()).toBe(0);
    await logOut(page);

    // The Owner exports JSON; the downloaded file holds both annotations.
    await logIn(page, base, owner.email, PASSWORD, `/projects/${projectId}/export`);
    await page.getByRole('radio', { name: 'JSON', exact: true }).check();
    await shot(page, 'export');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export', exact: true }).click()]);
    expect(download.suggestedFilename()).toMatch(/\.json$/);
    const exported = JSON.parse(fs.readFileSync((await download.path())!, 'utf8')) as { id: number; data: { image: string }; annotations: { result: { type: string; value: Record<string, unknown> }[] }[] }[];
    expect(exported).toHaveLength(2);
    const byId = new Map(exported.map((t) => [t.id, t]));
    expect(byId.get(first)!.data.image).toMatch(/^\/data\/upload\//);
    expect(byId.get(first)!.annotations[0]!.result.map((r) => r.type).sort()).toEqual(['choices', 'rectanglelabels']);
    expect(byId.get(second)!.annotations[0]!.result[0]!.value).toEqual({ choices: ['Rainy'] });

    // A snapshot is written in the background and offered for download once complete.
    await page.getByRole('button', { name: 'Create snapshot' }).click();
    await page.getByTestId('snapshot-row').getByText('Completed').waitFor({ timeout: 30_000 });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('an Annotator reaches no management page by URL', { timeout: 120_000 }, async () => {
    const page = await newPage(browser);
    const annotator = await makeMember(server.deps, orgId, 'AN');
    const ws = await makeWorkspace(server.deps, orgId, [owner, annotator], 'Locked');
    const project = await call(server, 'POST', '/api/projects', { token: owner.token, body: { title: 'Locked down', workspace: ws, label_config: CONFIG } });
    expect(project.status).toBe(201);
    const id = project.body.id as number;
    await logIn(page, server.url, annotator.email, PASSWORD, `/projects/${id}/data`);
    await page.getByRole('heading', { name: 'Start labeling' }).waitFor();
    expect(await page.getByRole('table').count()).toBe(0);
    const tabs = page.getByRole('navigation', { name: 'Project' });
    expect(await tabs.getByRole('link').allTextContents()).toEqual(['Overview']);
    expect(await page.getByRole('link', { name: 'Organization', exact: true }).count()).toBe(0);
    for (const [path, heading] of [
      [`/projects/${id}/settings`, 'Your role cannot change project settings'],
      [`/projects/${id}/settings/danger`, 'Your role cannot change project settings'],
      [`/projects/${id}/review`, 'Your role cannot review annotations'],
      [`/projects/${id}/export`, 'Your role cannot export projects'],
      ['/organization', 'Your role cannot manage the organization'],
    ] as const) {
      await page.goto(`${server.url}${path}`);
      await page.getByRole('heading', { name: heading }).waitFor();
      expect(await page.getByRole('button', { name: /Delete|Save|Export|Accept/ }).count(), path).toBe(0);
    }
    // The server agrees, whatever the page shows.
    expect((await call(server, 'GET', `/api/tasks?project=${id}`, { token: annotator.token })).status).toBe(403);
    expect((await call(server, 'PATCH', `/api/projects/${id}`, { token: annotator.token, body: { title: 'x' } })).status).toBe(403);
    expect((await call(server, 'GET', `/api/projects/${id}/export`, { token: annotator.token })).status).toBe(403);
    await page.close();
  });

  it('the data manager filters, sorts, saves views, assigns and deletes in bulk', { timeout: 120_000 }, async () => {
    const page = await newPage(browser);
    const errors = watchErrors(page);
    const annotator = await makeMember(server.deps, orgId, 'AN');
    const ws = await makeWorkspace(server.deps, orgId, [owner, annotator], 'Text team');
    const config = '<View><Text name="t" value="$text"/><Choices name="c" toName="t"><Choice value="Yes"/><Choice value="No"/></Choices></View>';
    const project = await call(server, 'POST', '/api/projects', { token: owner.token, body: { title: 'Support tickets', workspace: ws, label_config: config } });
    const id = project.body.id as number;
    const texts = ['Printer jams on page two', 'Refund for order 1182', 'Printer driver will not install', 'Password reset link expired', 'Where is my parcel?'];
    const imported = await call(server, 'POST', `/api/projects/${id}/import`, {
      token: owner.token,
      body: texts.map((text, i) => ({ data: { text }, ...(i < 2 && { annotations: [{ result: [{ from_name: 'c', to_name: 't', type: 'choices', value: { choices: ['Yes'] } }] }] }) })),
    });
    expect(imported.status).toBe(201);

    await logIn(page, server.url, owner.email, PASSWORD, `/projects/${id}/data`);
    const rows = page.getByTestId('task-row');
    await expect.poll(() => rows.count()).toBe(5);
    const ids = async () => (await rows.evaluateAll((trs) => trs.map((tr) => Number((tr as unknown as { dataset: Record<string, string> }).dataset.task))));
    const ascending = await ids();

    // Sorting by ID flips the order; a second click descends.
    await page.getByRole('columnheader', { name: /^ID/ }).click();
    await page.getByRole('columnheader', { name: /^ID/ }).click();
    await expect.poll(ids).toEqual([...ascending].sort((a, b) => b - a));

    // Filter: the text contains "printer" (two tasks); then only labeled ones (one of them).
    await page.getByRole('button', { name: '+ Filter' }).click();
    await page.getByLabel('Filter 1 column').selectOption('field');
    await page.getByLabel('Filter 1 value').fill('printer');
    await expect.poll(() => rows.count()).toBe(2);
    await page.getByRole('button', { name: '+ Filter' }).click();
    await page.getByLabel('Filter 2 value').selectOption('yes');
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain('Printer jams');

    // Saved as a view: a tab that brings the filters back.
    await page.getByRole('button', { name: 'Save as view' }).click();
    await page.getByRole('tab', { name: 'View 1' }).waitFor();
    await page.getByRole('tab', { name: 'All tasks' }).click();
    await expect.poll(() => rows.count()).toBe(5);
    await page.getByRole('tab', { name: 'View 1' }).click();
    await expect.poll(() => rows.count()).toBe(1);
    const views = await call(server, 'GET', `/api/dm/views?project=${id}`, { token: owner.token });
    expect(views.body[0].data.filters.items).toHaveLength(2);
    await page.getByRole('tab', { name: 'All tasks' }).click();
    await expect.poll(() => rows.count()).toBe(5);

    // Unlabeled only, then a date range that includes today.
    await page.getByRole('button', { name: '+ Filter' }).click();
    await page.getByLabel('Filter 1 value').selectOption('no');
    await expect.poll(() => rows.count()).toBe(3);
    await page.getByRole('button', { name: '+ Filter' }).click();
    await page.getByLabel('Filter 2 column').selectOption('created_after');
    const today = new Date();
    const iso = `${today.getFullYear()}-${String(today.getMonth() + 1).padStart(2, '0')}-${String(today.getDate()).padStart(2, '0')}`;
    await page.getByLabel('Filter 2 value').fill(iso);
    await expect.poll(() => rows.count()).toBe(3);
    await page.getByLabel('Filter 2 column').selectOption('created_before');
    await page.getByLabel('Filter 2 value').fill('2001-01-01');
    await page.getByRole('heading', { name: 'No tasks match' }).waitFor();
    await page.getByRole('button', { name: 'Remove filter 2' }).click();
    await expect.poll(() => rows.count()).toBe(3);

    // Select two unlabeled tasks; assign them to the Annotator; then delete one task.
    const unlabeled = await ids();
    await page.getByLabel(`Select task ${unlabeled[0]}`).check();
    await page.getByLabel(`Select task ${unlabeled[1]}`).check();
    await page.getByRole('region', { name: 'Selection' }).getByText('2 selected').waitFor();
    await shot(page, 'data-manager-filters');
    const assignTo = page.getByLabel('Assign to');
    const option = await assignTo.locator('option', { hasText: annotator.email }).getAttribute('value');
    await assignTo.selectOption(option!);
    await page.getByRole('button', { name: 'Assign', exact: true }).click();
    await page.getByText('Assigned 2 tasks.').waitFor();
    const assignees = await call(server, 'GET', `/api/projects/${id}/tasks/${unlabeled[0]}/assignees`, { token: owner.token });
    expect(assignees.body).toEqual([expect.objectContaining({ assignee: annotator.id })]);
    await page.getByLabel(`Select task ${unlabeled[2]}`).check();
    await page.getByRole('button', { name: 'Delete tasks' }).click();
    await page.getByRole('button', { name: 'Delete tasks' }).click(); // the confirmation
    await expect.poll(() => rows.count()).toBe(2);
    expect((await call(server, 'GET', `/api/tasks/${unlabeled[2]}`, { token: owner.token })).status).toBe(404);

    // Deleting annotations of the labeled tasks.
    await page.getByRole('button', { name: 'Remove filter 1' }).click();
    await expect.poll(() => rows.count()).toBe(4);
    await page.getByRole('button', { name: '+ Filter' }).click();
    await expect.poll(() => rows.count()).toBe(2); // the new filter starts as "labeled: has annotations"
    await page.getByLabel('Select all 2 tasks').check(); // selects by filter: every task it matches
    await page.getByRole('button', { name: 'Delete annotations' }).click();
    await page.getByRole('button', { name: 'Delete annotations' }).click();
    await page.getByRole('heading', { name: 'No tasks match' }).waitFor();

    // The danger zone deletes the project after a confirmation.
    await page.goto(`${server.url}/projects/${id}/settings/danger`);
    await page.getByRole('button', { name: 'Delete project' }).click();
    await page.getByRole('button', { name: 'Delete for good' }).click();
    await page.waitForURL((u) => u.pathname === '/projects');
    expect((await call(server, 'GET', `/api/projects/${id}`, { token: owner.token })).status).toBe(404);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('the account page: profile, password, token shown once, organization switch', { timeout: 120_000 }, async () => {
    const page = await newPage(browser);
    const errors = watchErrors(page);
    const me = await makeMember(server.deps, orgId, 'MA');
    const elsewhere = await makeOrganization(server.deps);
    const now = new Date().toISOString();
    await server.deps.db.insertInto('memberships').values({ organization_id: elsewhere.id, user_id: me.id, role: 'AN', created_at: now, updated_at: now }).execute();

    await logIn(page, server.url, me.email, PASSWORD, '/account');
    await page.getByLabel('First name').fill('Mara');
    await page.getByLabel('Last name').fill('Manager');
    await page.getByRole('button', { name: 'Save profile' }).click();
    await page.getByRole('region', { name: 'Profile' }).getByText('Saved').waitFor();
    expect((await call(server, 'GET', '/api/current-user', { token: me.token })).body).toMatchObject({ first_name: 'Mara', last_name: 'Manager' });

    // A wrong current password is refused with the server's message; the right one works.
    const pw = page.getByRole('region', { name: 'Password' });
    await pw.getByLabel('Current password').fill('not my password at all');
    await pw.getByLabel('New password').fill('seven lanterns over a frozen harbour');
    await pw.getByRole('button', { name: 'Change password' }).click();
    await expect.poll(() => pw.getByRole('alert').textContent()).toMatch(/.+/);
    await pw.getByLabel('Current password').fill(PASSWORD);
    await pw.getByRole('button', { name: 'Change password' }).click();
    await pw.getByText('Your password was changed.').waitFor();

    // The token: reset, shown once; the old one stops working, the new one works.
    await page.getByRole('button', { name: 'Reset token' }).click();
    await page.getByRole('button', { name: 'Reset', exact: true }).click();
    const token = await page.getByTestId('api-token').inputValue();
    expect(token.length).toBeGreaterThan(20);
    expect((await call(server, 'GET', '/api/current-user', { token: me.token })).status).toBe(401);
    expect((await call(server, 'GET', '/api/current-user', { token })).status).toBe(200);
    await shot(page, 'account');

    // Switching the active organization changes the role the app shows.
    expect(await page.getByTestId('role').textContent()).toBe('Manager');
    await page.getByRole('button', { name: `Switch to ${(await call(server, 'GET', `/api/organizations/${elsewhere.id}`, { token: elsewhere.owner.token })).body.title}` }).click();
    await expect.poll(() => page.getByTestId('role').textContent()).toBe('Annotator');
    expect(await page.getByRole('link', { name: 'Organization', exact: true }).count()).toBe(0);

    // The Owner resets the invite link (the old one stops working) and deactivates the Manager.
    const before = (await call(server, 'GET', '/api/invite', { token: owner.token })).body.token as string;
    await logIn(page, server.url, owner.email, PASSWORD, '/organization');
    await expect.poll(() => page.getByTestId('invite-link').inputValue()).toContain(before);
    await page.getByRole('button', { name: 'Reset link' }).click();
    await page.getByRole('button', { name: 'Reset', exact: true }).click();
    await expect.poll(() => page.getByTestId('invite-link').inputValue()).not.toContain(before);
    const row = page.getByTestId('member-row').filter({ hasText: me.email });
    await row.getByRole('button', { name: 'Deactivate' }).click();
    await row.getByRole('button', { name: 'Deactivate' }).click();
    await row.getByText('Deactivated').waitFor();
    await row.getByRole('button', { name: 'Reactivate' }).waitFor();
    // (Their active organization is now the other one, where they still work; here they are deactivated.)
    const memberships = await call(server, 'GET', `/api/organizations/${orgId}/memberships?page_size=100`, { token: owner.token });
    expect(memberships.body.results.find((m: { user: { id: number } }) => m.user.id === me.id)?.role).toBe('DI');
    expect(errors).toEqual([]);
    await page.close();
  });
});
