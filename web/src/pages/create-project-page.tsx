/** Create a project: name, description and a labeling config picked from the gallery (editable). */
import { useEffect, useState, type FormEvent } from 'react';
import { api, ApiError } from '../api/client';
import type { Project, Workspace } from '../api/types';
import { navigate } from '../app/router';
import { useSession } from '../app/session';
import { useApi } from '../app/use-api';
import { Icon } from '../components/icon';
import { Shell } from '../components/shell';
import { Empty, ErrorAlert } from '../components/ui';
import { EditorPreview, sampleData } from '../editor/editor-preview';
import { TEMPLATES, type TemplateKey } from '../templates/starter-templates';

/** The creation form, gallery and live preview; refuses roles without project.create up front. */
export function CreateProjectPage() {
  const { can } = useSession();
  const [title, setTitle] = useState('');
  const [description, setDescription] = useState('');
  const [picked, setPicked] = useState<TemplateKey>('textClassification');
  const [config, setConfig] = useState(TEMPLATES.find((t) => t.key === 'textClassification')!.config);
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);
  const workspaces = useApi('workspaces', () => api<Workspace[]>('GET', '/api/workspaces'));
  const choices = (workspaces.data ?? []).filter((w) => !w.is_archived).sort((a, b) => Number(a.is_personal) - Number(b.is_personal));
  const [workspace, setWorkspace] = useState<number | null>(null);
  // Shared workspaces first: a project in one is open to its members; the sandbox is the caller's alone.
  const chosen = workspace ?? choices[0]?.id ?? null;
  const [configError, setConfigError] = useState<string>();
  // The preview shows the last config the server accepted.
  const [previewed, setPreviewed] = useState(config);

  // The server checks the config as it is typed (the same parser that guards saving it).
  useEffect(() => {
    let live = true;
    const timer = setTimeout(() => {
      api('POST', '/api/projects/validate', { label_config: config }).then(
        () => {
          if (!live) return;
          setConfigError(undefined);
          setPreviewed(config);
        },
        (e: ApiError) => live && setConfigError([e.detail, ...e.lines].join(' — ')),
      );
    }, 400);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [config]);

  if (!can('project.create')) {
    return (
      <Shell crumbs={[{ label: 'Projects', to: '/projects' }, { label: 'New project' }]}>
        <div className="card">
          <Empty icon="lock" title="Your role cannot create projects">
            <p>Ask a manager or an administrator to create one for you.</p>
          </Empty>
        </div>
      </Shell>
    );
  }

  const pick = (key: TemplateKey) => {
    setPicked(key);
    setConfig(TEMPLATES.find((t) => t.key === key)!.config);
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const project = await api<Project>('POST', '/api/projects', { title, description, label_config: config, ...(chosen !== null && { workspace: chosen }) });
      navigate(`/projects/${project.id}/data?import=1`);
    } catch (err) {
      setError(err as ApiError);
      setBusy(false);
    }
  };

  return (
    <Shell crumbs={[{ label: 'Projects', to: '/projects' }, { label: 'New project' }]}>
      <form onSubmit={submit} aria-label="Create project">
        <div className="page-head">
          <div>
            <h1>New project</h1>
            <p>Name it, choose what to label, then import your data.</p>
          </div>
          <div className="row">
            <button type="button" className="btn" onClick={() => navigate('/projects')}>
              Cancel
            </button>
            <button type="submit" className="btn btn-primary" disabled={busy}>
              {busy ? 'Creating…' : 'Create project'}
            </button>
          </div>
        </div>
        <div className="stack" style={{ gap: 24 }}>
          <ErrorAlert error={error} />
          <div className="create-grid">
            <div className="card card-body stack">
              <div className="section-title">Project</div>
              <div className="field">
                <label htmlFor="title">Name</label>
                <input id="title" className="input" required maxLength={50} value={title} onChange={(e) => setTitle(e.target.value)} placeholder="e.g. Product review sentiment" />
              </div>
              <div className="field">
                <label htmlFor="workspace">Workspace</label>
                <select id="workspace" className="input" value={chosen ?? ''} onChange={(e) => setWorkspace(Number(e.target.value))} disabled={choices.length === 0}>
                  {choices.map((w) => (
                    <option key={w.id} value={w.id}>
                      {w.is_personal ? 'My sandbox (only me)' : w.title}
                    </option>
                  ))}
                </select>
                <span className="hint">Members of the workspace can work in the project.</span>
              </div>
              <div className="field">
                <label htmlFor="description">Description</label>
                <textarea id="description" className="textarea" rows={3} value={description} onChange={(e) => setDescription(e.target.value)} placeholder="What the labelers should know about this project" />
              </div>
              <div className="field">
                <label htmlFor="config">Labeling config</label>
                <textarea id="config" className="textarea mono" rows={14} value={config} onChange={(e) => setConfig(e.target.value)} spellCheck={false} />
                {configError ? (
                  <span className="error" role="alert" data-testid="config-error">
                    {configError}
                  </span>
                ) : (
                  <span className="hint">Label Studio XML. Pick a template on the right, then adjust labels here.</span>
                )}
              </div>
            </div>
            <div className="stack" style={{ gap: 24 }}>
              <div className="card card-body stack">
                <div className="section-title">Templates</div>
                <div className="gallery" role="group" aria-label="Templates">
                  {TEMPLATES.map((t) => (
                    <button type="button" key={t.key} className="template" aria-pressed={picked === t.key} onClick={() => pick(t.key)} data-template={t.key}>
                      <span className="icon">
                        <Icon name={t.icon} />
                      </span>
                      <strong>{t.title}</strong>
                      <span>{t.description}</span>
                    </button>
                  ))}
                </div>
              </div>
              <div className="card card-body stack">
                <div className="section-title">Preview</div>
                {configError && <p className="muted">The preview shows the last valid config.</p>}
                <EditorPreview config={previewed} data={sampleData(previewed, TEMPLATES.find((t) => t.key === picked)?.sample)} />
              </div>
            </div>
          </div>
        </div>
      </form>
    </Shell>
  );
}
