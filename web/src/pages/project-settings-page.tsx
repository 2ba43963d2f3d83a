/**
 * A project's settings, one section at a time: general (title, description, colour), labeling
 * config with a live preview, instructions, task distribution, members, and the danger zone.
 * Only roles with project.change reach it; members need project.members; deleting, project.delete.
 */
import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { api, ApiError } from '../api/client';
import type { Project, User, Workspace } from '../api/types';
import { Link, navigate } from '../app/router';
import { useSession } from '../app/session';
import { useApi, type Loaded } from '../app/use-api';
import { ProjectTabs } from '../components/project-nav';
import { RoleRefused } from '../components/role-refused';
import { Shell } from '../components/shell';
import { ConfirmButton, ErrorAlert, Loading, nameOf } from '../components/ui';
import { EditorPreview, sampleData } from '../editor/editor-preview';
import { Person, useMembers, WorkspaceMembers } from './organization-page';

export const SECTIONS = [
  { key: 'general', label: 'General' },
  { key: 'labeling', label: 'Labeling interface' },
  { key: 'instructions', label: 'Instructions' },
  { key: 'distribution', label: 'Task distribution' },
  { key: 'members', label: 'Members' },
  { key: 'danger', label: 'Danger zone' },
] as const;
export type Section = (typeof SECTIONS)[number]['key'];

const COLORS = ['#4F46E5', '#0EA5E9', '#10B981', '#F59E0B', '#EF4444', '#EC4899', '#8B5CF6', '#64748B'];

/** Saves a partial project; shows "Saved" or the server's refusal. */
function useSave(project: Loaded<Project>, id: number) {
  const [error, setError] = useState<ApiError>();
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  const save = async (body: Partial<Project>) => {
    setBusy(true);
    setError(undefined);
    setSaved(false);
    try {
      await api('PATCH', `/api/projects/${id}`, body);
      setSaved(true);
      project.reload();
    } catch (e) {
      setError(e as ApiError);
    } finally {
      setBusy(false);
    }
  };
  return { error, saved, busy, save };
}

function Foot({ busy, saved, label = 'Save' }: { busy: boolean; saved: boolean; label?: string }) {
  return (
    <div className="form-foot">
      {saved && (
        <span className="badge badge-success" role="status">
          Saved
        </span>
      )}
      <button className="btn btn-primary" type="submit" disabled={busy}>
        {busy ? 'Saving…' : label}
      </button>
    </div>
  );
}

function Card({ title, hint, children }: { title: string; hint?: string; children: ReactNode }) {
  return (
    <div className="card card-body section">
      <div className="section-head">
        <div>
          <h3>{title}</h3>
          {hint && <p>{hint}</p>}
        </div>
      </div>
      {children}
    </div>
  );
}

function General({ p, project }: { p: Project; project: Loaded<Project> }) {
  const [title, setTitle] = useState(p.title);
  const [description, setDescription] = useState(p.description);
  const [color, setColor] = useState(p.color ?? '#FFFFFF');
  const s = useSave(project, p.id);
  return (
    <form onSubmit={(e) => (e.preventDefault(), void s.save({ title, description, color }))} aria-label="General settings">
      <Card title="General" hint="How the project appears in the list.">
        <ErrorAlert error={s.error} />
        <div className="field">
          <label htmlFor="p-title">Name</label>
          <input id="p-title" className="input" maxLength={50} required value={title} onChange={(e) => setTitle(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="p-description">Description</label>
          <textarea id="p-description" className="textarea" rows={4} value={description} onChange={(e) => setDescription(e.target.value)} />
        </div>
        <div className="field">
          <label>Color</label>
          <div className="swatches" role="group" aria-label="Color">
            {COLORS.map((c) => (
              <button key={c} type="button" className="swatch" style={{ background: c }} aria-label={c} aria-pressed={color.toUpperCase() === c} onClick={() => setColor(c)} />
            ))}
          </div>
        </div>
        <Foot busy={s.busy} saved={s.saved} />
      </Card>
    </form>
  );
}

function Labeling({ p, project }: { p: Project; project: Loaded<Project> }) {
  const [config, setConfig] = useState(p.label_config);
  const [problem, setProblem] = useState<string>();
  const [previewed, setPreviewed] = useState(p.label_config);
  const s = useSave(project, p.id);
  // The server checks the config as it is typed, against the project's existing annotations too.
  useEffect(() => {
    let live = true;
    const timer = setTimeout(() => {
      api('POST', `/api/projects/${p.id}/validate`, { label_config: config }).then(
        () => {
          if (!live) return;
          setProblem(undefined);
          setPreviewed(config);
        },
        (e: ApiError) => live && setProblem([e.detail, ...e.lines].join(' — ')),
      );
    }, 400);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [config, p.id]);
  return (
    <form onSubmit={(e) => (e.preventDefault(), void s.save({ label_config: config }))} aria-label="Labeling settings">
      <Card title="Labeling interface" hint="Label Studio XML. Changes that would orphan existing annotations are refused.">
        <ErrorAlert error={s.error} />
        <div className="create-grid">
          <div className="field">
            <label htmlFor="p-config">Labeling config</label>
            <textarea id="p-config" className="textarea mono" rows={18} value={config} onChange={(e) => setConfig(e.target.value)} spellCheck={false} />
            {problem ? (
              <span className="error" role="alert" data-testid="config-error">
                {problem}
              </span>
            ) : (
              <span className="hint">The preview follows as you type.</span>
            )}
          </div>
          <div className="field">
            <label>Preview</label>
            <EditorPreview config={previewed} data={sampleData(previewed)} />
          </div>
        </div>
        <Foot busy={s.busy || problem !== undefined} saved={s.saved} />
      </Card>
    </form>
  );
}

function Instructions({ p, project }: { p: Project; project: Loaded<Project> }) {
  const [text, setText] = useState(p.expert_instruction);
  const [show, setShow] = useState(p.show_instruction);
  const [skip, setSkip] = useState(p.show_skip_button);
  const s = useSave(project, p.id);
  return (
    <form onSubmit={(e) => (e.preventDefault(), void s.save({ expert_instruction: text, show_instruction: show, show_skip_button: skip }))} aria-label="Instructions settings">
      <Card title="Instructions" hint="What labelers read before they start.">
        <ErrorAlert error={s.error} />
        <div className="field">
          <label htmlFor="p-instructions">Instructions</label>
          <textarea id="p-instructions" className="textarea" rows={8} value={text} onChange={(e) => setText(e.target.value)} placeholder="e.g. Draw tight boxes around every car; choose the scene's weather." />
        </div>
        <label className="check">
          <input type="checkbox" checked={show} onChange={(e) => setShow(e.target.checked)} />
          <span>
            Show the instructions above the editor
            <small>Labelers see them on every task.</small>
          </span>
        </label>
        <label className="check">
          <input type="checkbox" checked={skip} onChange={(e) => setSkip(e.target.checked)} />
          <span>
            Allow skipping tasks
            <small>A skipped task is recorded as a cancelled annotation.</small>
          </span>
        </label>
        <Foot busy={s.busy} saved={s.saved} />
      </Card>
    </form>
  );
}

function Distribution({ p, project }: { p: Project; project: Loaded<Project> }) {
  const [mode, setMode] = useState(p.assignment_settings?.label_stream_task_distribution ?? 'auto_distribution');
  const [showDm, setShowDm] = useState(p.show_data_manager_to_annotators);
  const [showOthers, setShowOthers] = useState(p.show_others_annotations_to_annotators ?? false);
  const s = useSave(project, p.id);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void s.save({ assignment_settings: { label_stream_task_distribution: mode }, show_data_manager_to_annotators: showDm, show_others_annotations_to_annotators: showOthers });
  };
  return (
    <form onSubmit={submit} aria-label="Distribution settings">
      <Card title="Task distribution" hint="How the label stream hands out tasks, and what annotators may browse.">
        <ErrorAlert error={s.error} />
        <div className="radio-cards" role="radiogroup" aria-label="Distribution">
          <label className="radio-card">
            <input type="radio" name="mode" checked={mode === 'auto_distribution'} onChange={() => setMode('auto_distribution')} />
            <div>
              <strong>Automatic</strong>
              <span>Every annotator gets the next unfinished task.</span>
            </div>
          </label>
          <label className="radio-card">
            <input type="radio" name="mode" checked={mode === 'assigned_only'} onChange={() => setMode('assigned_only')} />
            <div>
              <strong>Assigned only</strong>
              <span>Annotators label only the tasks assigned to them.</span>
            </div>
          </label>
        </div>
        <label className="check">
          <input type="checkbox" checked={showDm} onChange={(e) => setShowDm(e.target.checked)} />
          <span>
            Show the data manager to annotators
            <small>They see the task table (their own work only), not just the label stream.</small>
          </span>
        </label>
        <label className="check">
          <input type="checkbox" checked={showOthers} onChange={(e) => setShowOthers(e.target.checked)} />
          <span>
            Show other people's annotations to annotators
            <small>Otherwise each annotator sees only their own.</small>
          </span>
        </label>
        <Foot busy={s.busy} saved={s.saved} />
      </Card>
    </form>
  );
}

function Members({ p }: { p: Project }) {
  const { user, can } = useSession();
  const workspaces = useApi('workspaces', () => api<Workspace[]>('GET', '/api/workspaces'));
  const ws = (workspaces.data ?? []).find((w) => w.id === p.workspace);
  const direct = useApi(`project-members-${p.id}`, () => api<User[]>('GET', `/api/projects/${p.id}/members`));
  const org = useMembers(user?.active_organization, can('members.view'));
  const [pick, setPick] = useState('');
  const [error, setError] = useState<ApiError>();
  const inside = new Set((direct.data ?? []).map((u) => u.id));
  const change = async (method: 'POST' | 'DELETE', userId: number) => {
    setError(undefined);
    try {
      await api(method, `/api/projects/${p.id}/members`, { user: userId });
      setPick('');
      direct.reload();
    } catch (e) {
      setError(e as ApiError);
    }
  };
  return (
    <div className="stack" style={{ gap: 20 }}>
      <Card title="Workspace members" hint={ws ? `Everyone in the “${ws.title}” workspace works in this project.` : 'The project is in a sandbox: only its creator and the direct members below work in it.'}>
        <ErrorAlert error={workspaces.error} />
        {workspaces.loading && !workspaces.data && <Loading />}
        {ws && !ws.is_personal && user?.active_organization && <WorkspaceMembers workspace={ws} orgId={user.active_organization} />}
      </Card>
      <Card title="Direct members" hint="People added to this project only, without joining its workspace.">
        <ErrorAlert error={error ?? direct.error} />
        {direct.data && direct.data.length === 0 && <p className="muted">No direct members.</p>}
        {direct.data && direct.data.length > 0 && (
          <ul className="file-list" aria-label="Direct members" style={{ gap: 10 }}>
            {direct.data.map((u) => (
              <li key={u.id} style={{ alignItems: 'center' }}>
                <Person user={u} />
                <button className="btn btn-ghost btn-sm" onClick={() => void change('DELETE', u.id)} aria-label={`Remove ${u.email} from the project`}>
                  Remove
                </button>
              </li>
            ))}
          </ul>
        )}
        {org.data && (
          <form className="row" onSubmit={(e) => (e.preventDefault(), pick && void change('POST', Number(pick)))}>
            <select className="input" aria-label="Person to add to the project" value={pick} onChange={(e) => setPick(e.target.value)} style={{ flex: 1 }}>
              <option value="">Add a person…</option>
              {(org.data.results ?? [])
                .filter((m) => !inside.has(m.user.id) && !['NO', 'DI'].includes(m.role))
                .map((m) => (
                  <option key={m.user.id} value={m.user.id}>
                    {nameOf(m.user)} · {m.user.email}
                  </option>
                ))}
            </select>
            <button className="btn" type="submit" disabled={!pick}>
              Add to project
            </button>
          </form>
        )}
      </Card>
    </div>
  );
}

function Danger({ p }: { p: Project }) {
  const { can } = useSession();
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);
  const remove = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await api('DELETE', `/api/projects/${p.id}`);
      navigate('/projects');
    } catch (e) {
      setError(e as ApiError);
      setBusy(false);
    }
  };
  return (
    <div className="card card-body section danger-zone">
      <div className="section-head" style={{ alignItems: 'center' }}>
        <div>
          <h3>Delete this project</h3>
          <p>
            Its {p.task_number} tasks and {p.total_annotations_number} annotations are deleted with it. This cannot be undone.
          </p>
        </div>
        {can('project.delete') ? <ConfirmButton label="Delete project" confirm="Delete for good" busy={busy} onConfirm={() => void remove()} /> : <span className="muted">Your role cannot delete projects.</span>}
      </div>
      <ErrorAlert error={error} />
    </div>
  );
}

/** /projects/:id/settings[/:section]. */
export function ProjectSettingsPage({ id, section }: { id: number; section: Section }) {
  const { can } = useSession();
  const project = useApi(`project-${id}`, () => api<Project>('GET', `/api/projects/${id}`));
  const p = project.data;
  const crumbs = [{ label: 'Projects', to: '/projects' }, { label: p?.title ?? `Project ${id}`, to: `/projects/${id}/data` }, { label: 'Settings' }];
  if (!can('project.change')) {
    return <RoleRefused crumbs={crumbs} title="Your role cannot change project settings" projectId={id} />;
  }
  const visible = SECTIONS.filter((s) => s.key !== 'members' || can('project.members'));
  return (
    <Shell crumbs={crumbs}>
      <ErrorAlert error={project.error} />
      {project.loading && !p && <Loading label="Loading project…" />}
      {p && (
        <>
          <div className="project-head">
            <h1>{p.title || `Project #${p.id}`}</h1>
            <ProjectTabs project={p} current="settings" />
          </div>
          <div className="settings">
            <nav className="side-menu" aria-label="Settings">
              {visible.map((s) => (
                <Link key={s.key} to={`/projects/${id}/settings/${s.key}`} aria-current={section === s.key ? 'page' : undefined}>
                  {s.label}
                </Link>
              ))}
            </nav>
            <div key={section}>
              {section === 'general' && <General p={p} project={project} />}
              {section === 'labeling' && <Labeling p={p} project={project} />}
              {section === 'instructions' && <Instructions p={p} project={project} />}
              {section === 'distribution' && <Distribution p={p} project={project} />}
              {section === 'members' && can('project.members') && <Members p={p} />}
              {section === 'danger' && <Danger p={p} />}
            </div>
          </div>
        </>
      )}
    </Shell>
  );
}
