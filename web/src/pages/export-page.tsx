/**
 * Export a project: choose a format and download at once (GET /api/projects/:id/export, streamed),
 * or create a snapshot that a background job writes, watched until it completes, then download it.
 * Managers and above (project.export); a refusal shows the server's message.
 */
import { useEffect, useState } from 'react';
import { api, ApiError, errorFrom } from '../api/client';
import type { ExportFormat, Project } from '../api/types';
import { useSession } from '../app/session';
import { useApi } from '../app/use-api';
import { ProjectTabs } from '../components/project-nav';
import { RoleRefused } from '../components/role-refused';
import { Shell } from '../components/shell';
import { ago, Empty, ErrorAlert, Loading } from '../components/ui';

interface Snapshot {
  id: number;
  title: string;
  status: string;
  created_at: string;
  finished_at: string | null;
  counters: { task_number: number; annotation_number?: number };
}

/** Fetches a file with the session and hands it to the browser as a download; throws the server's refusal. */
async function download(url: string, fallbackName: string): Promise<void> {
  const res = await fetch(url, { credentials: 'same-origin', headers: { accept: 'application/json, */*' } });
  if (!res.ok) {
    let body: unknown = null;
    try {
      body = await res.json();
    } catch {
      /* not JSON */
    }
    throw errorFrom(res.status, body);
  }
  const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? fallbackName;
  const href = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = href;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 10_000);
}

const DONE = new Set(['completed', 'failed']);

/** /projects/:id/export. */
export function ExportPage({ id }: { id: number }) {
  const { can } = useSession();
  const may = can('project.export');
  const project = useApi(`project-${id}`, () => api<Project>('GET', `/api/projects/${id}`));
  const formats = useApi(may ? `formats-${id}` : null, () => api<ExportFormat[]>('GET', `/api/projects/${id}/export/formats`));
  const snapshots = useApi(may ? `snapshots-${id}` : null, () => api<Snapshot[]>('GET', `/api/projects/${id}/exports`));
  const [format, setFormat] = useState('JSON');
  const [allTasks, setAllTasks] = useState(true);
  const [error, setError] = useState<ApiError | Error>();
  const [busy, setBusy] = useState<string | null>(null);
  const p = project.data;

  // Snapshots still being written are polled until they finish.
  const pending = (snapshots.data ?? []).some((s) => !DONE.has(s.status));
  useEffect(() => {
    if (!pending) return;
    const t = setTimeout(() => snapshots.reload(), 800);
    return () => clearTimeout(t);
  }, [pending, snapshots]);

  const run = async (what: string, fn: () => Promise<void>) => {
    setBusy(what);
    setError(undefined);
    try {
      await fn();
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(null);
    }
  };
  const downloadNow = () => run('download', () => download(`/api/projects/${id}/export?exportType=${encodeURIComponent(format)}${allTasks ? '&download_all_tasks=true' : ''}`, `project-${id}.${format.toLowerCase()}`));
  const createSnapshot = () =>
    run('snapshot', async () => {
      await api('POST', `/api/projects/${id}/exports`, { title: `${format} export`, task_filter_options: { only_with_annotations: !allTasks } });
      snapshots.reload();
    });

  const crumbs = [{ label: 'Projects', to: '/projects' }, { label: p?.title ?? `Project ${id}`, to: `/projects/${id}/data` }, { label: 'Export' }];
  if (!may) {
    return <RoleRefused crumbs={crumbs} title="Your role cannot export projects" projectId={id} />;
  }
  return (
    <Shell crumbs={crumbs}>
      <ErrorAlert error={project.error} />
      {project.loading && !p && <Loading label="Loading project…" />}
      {p && (
        <>
          <div className="project-head">
            <h1>{p.title || `Project #${p.id}`}</h1>
            <ProjectTabs project={p} current="export" />
          </div>
          <div className="stack" style={{ gap: 20 }}>
            <ErrorAlert error={error ?? formats.error} />
            <section className="card card-body section" aria-label="Export format">
              <div className="section-head">
                <div>
                  <h3>Format</h3>
                  <p>
                    {p.task_number} tasks · {p.total_annotations_number} annotations. Annotations keep Label Studio's result format.
                  </p>
                </div>
              </div>
              {formats.loading && !formats.data && <Loading label="Loading formats…" />}
              <div className="radio-cards" role="radiogroup" aria-label="Formats">
                {(formats.data ?? []).map((f) => (
                  <label key={f.name} className="radio-card" style={f.disabled ? { opacity: 0.5 } : undefined}>
                    <input type="radio" name="format" value={f.name} checked={format === f.name} disabled={f.disabled} onChange={() => setFormat(f.name)} aria-label={f.title} />
                    <div>
                      <strong>{f.title}</strong>
                      <span>{f.description}</span>
                    </div>
                  </label>
                ))}
              </div>
              <label className="check">
                <input type="checkbox" checked={allTasks} onChange={(e) => setAllTasks(e.target.checked)} />
                <span>
                  Include tasks without annotations
                  <small>Otherwise only annotated tasks are exported.</small>
                </span>
              </label>
              <div className="form-foot">
                <button className="btn" onClick={() => void createSnapshot()} disabled={busy !== null}>
                  {busy === 'snapshot' ? 'Creating…' : 'Create snapshot'}
                </button>
                <button className="btn btn-primary" onClick={() => void downloadNow()} disabled={busy !== null}>
                  {busy === 'download' ? 'Preparing…' : 'Export'}
                </button>
              </div>
            </section>
            <section className="card" aria-label="Snapshots">
              <div className="card-body section-head">
                <div>
                  <h3>Snapshots</h3>
                  <p>Files written in the background, kept until deleted.</p>
                </div>
              </div>
              {snapshots.loading && !snapshots.data && <Loading />}
              {snapshots.data && snapshots.data.length === 0 && (
                <Empty icon="inbox" title="No snapshots yet">
                  <p>A snapshot freezes the project's annotations at one moment.</p>
                </Empty>
              )}
              {snapshots.data && snapshots.data.length > 0 && (
                <table className="table" aria-label="Snapshots">
                  <thead>
                    <tr>
                      <th>Title</th>
                      <th>Status</th>
                      <th className="num">Tasks</th>
                      <th className="num">Annotations</th>
                      <th>Created</th>
                      <th />
                    </tr>
                  </thead>
                  <tbody>
                    {snapshots.data.map((s) => (
                      <tr key={s.id} data-testid="snapshot-row">
                        <td>{s.title || `Snapshot #${s.id}`}</td>
                        <td>
                          {s.status === 'completed' ? (
                            <span className="badge badge-success">Completed</span>
                          ) : s.status === 'failed' ? (
                            <span className="badge badge-danger">Failed</span>
                          ) : (
                            <span className="row" style={{ gap: 8 }}>
                              <span className="spinner" style={{ width: 14, height: 14, borderWidth: 2 }} />
                              <span className="muted">Writing…</span>
                            </span>
                          )}
                        </td>
                        <td className="num">{s.counters.task_number}</td>
                        <td className="num">{s.counters.annotation_number ?? '—'}</td>
                        <td className="muted">{ago(s.created_at)}</td>
                        <td style={{ textAlign: 'right' }}>
                          {s.status === 'completed' && (
                            <button className="btn btn-sm" onClick={() => void run('download', () => download(`/api/projects/${id}/exports/${s.id}/download?exportType=${encodeURIComponent(format)}`, `snapshot-${s.id}.${format.toLowerCase()}`))}>
                              Download {format}
                            </button>
                          )}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </section>
          </div>
        </>
      )}
    </Shell>
  );
}
