/**
 * The signed-in user's account: profile (PATCH /api/current-user), password change, the API
 * token (reset: the new one is shown once), and which organization to work in.
 */
import { useState, type FormEvent, type ReactNode } from 'react';
import { api, ApiError } from '../api/client';
import type { Organization } from '../api/types';
import { useSession } from '../app/session';
import { useApi } from '../app/use-api';
import { Shell } from '../components/shell';
import { ConfirmButton, ErrorAlert, Loading } from '../components/ui';

function Section({ title, hint, children, label }: { title: string; hint: string; children: ReactNode; label: string }) {
  return (
    <section className="card card-body section" aria-label={label}>
      <div className="section-head">
        <div>
          <h3>{title}</h3>
          <p>{hint}</p>
        </div>
      </div>
      {children}
    </section>
  );
}

function Profile() {
  const { user, refresh } = useSession();
  const [form, setForm] = useState({ first_name: user?.first_name ?? '', last_name: user?.last_name ?? '', phone: user?.phone ?? '' });
  const [error, setError] = useState<ApiError>();
  const [saved, setSaved] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    setSaved(false);
    try {
      await api('PATCH', '/api/current-user', form);
      await refresh();
      setSaved(true);
    } catch (err) {
      setError(err as ApiError);
    }
  };
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });
  return (
    <Section title="Profile" hint="Your name as your team sees it." label="Profile">
      <form className="stack" onSubmit={submit}>
        <ErrorAlert error={error} />
        <div className="row" style={{ gap: 16 }}>
          <div className="field" style={{ flex: 1 }}>
            <label htmlFor="a-first">First name</label>
            <input id="a-first" className="input" maxLength={256} value={form.first_name} onChange={set('first_name')} />
          </div>
          <div className="field" style={{ flex: 1 }}>
            <label htmlFor="a-last">Last name</label>
            <input id="a-last" className="input" maxLength={256} value={form.last_name} onChange={set('last_name')} />
          </div>
        </div>
        <div className="row" style={{ gap: 16 }}>
          <div className="field" style={{ flex: 1 }}>
            <label htmlFor="a-email">Email</label>
            <input id="a-email" className="input" value={user?.email ?? ''} readOnly disabled />
          </div>
          <div className="field" style={{ flex: 1 }}>
            <label htmlFor="a-phone">Phone</label>
            <input id="a-phone" className="input" maxLength={256} value={form.phone} onChange={set('phone')} />
          </div>
        </div>
        <div className="form-foot">
          {saved && (
            <span className="badge badge-success" role="status">
              Saved
            </span>
          )}
          <button className="btn btn-primary" type="submit">
            Save profile
          </button>
        </div>
      </form>
    </Section>
  );
}

function Password() {
  const [form, setForm] = useState({ old_password: '', new_password: '' });
  const [error, setError] = useState<ApiError>();
  const [done, setDone] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    setDone(false);
    try {
      await api('POST', '/api/current-user/change-password', form);
      setForm({ old_password: '', new_password: '' });
      setDone(true);
    } catch (err) {
      setError(err as ApiError);
    }
  };
  return (
    <Section title="Password" hint="Changing it signs you out everywhere else." label="Password">
      <form className="stack" onSubmit={submit}>
        <ErrorAlert error={error} />
        {done && (
          <div className="alert alert-success" role="status">
            Your password was changed.
          </div>
        )}
        <div className="row" style={{ gap: 16 }}>
          <div className="field" style={{ flex: 1 }}>
            <label htmlFor="a-old">Current password</label>
            <input id="a-old" className="input" type="password" autoComplete="current-password" required value={form.old_password} onChange={(e) => setForm({ ...form, old_password: e.target.value })} />
          </div>
          <div className="field" style={{ flex: 1 }}>
            <label htmlFor="a-new">New password</label>
            <input id="a-new" className="input" type="password" autoComplete="new-password" required value={form.new_password} onChange={(e) => setForm({ ...form, new_password: e.target.value })} />
          </div>
        </div>
        <div className="form-foot">
          <button className="btn btn-primary" type="submit">
            Change password
          </button>
        </div>
      </form>
    </Section>
  );
}

function Token() {
  const [token, setToken] = useState<string>();
  const [error, setError] = useState<ApiError>();
  const reset = async () => {
    setError(undefined);
    try {
      setToken((await api<{ token: string }>('POST', '/api/current-user/reset-token')).token);
    } catch (err) {
      setError(err as ApiError);
    }
  };
  return (
    <Section title="API token" hint="For scripts and the Label Studio SDK: send it as “Authorization: Token …”." label="API token">
      <ErrorAlert error={error} />
      {token ? (
        <>
          <div className="alert alert-success" role="status">
            Copy your new token now: it is shown only this once. The old one no longer works.
          </div>
          <div className="copy-row">
            <input className="input" readOnly value={token} aria-label="New API token" data-testid="api-token" onFocus={(e) => e.target.select()} />
            <button className="btn" onClick={() => void navigator.clipboard?.writeText(token).catch(() => undefined)}>
              Copy
            </button>
          </div>
        </>
      ) : (
        <div className="row" style={{ justifyContent: 'space-between' }}>
          <span className="muted">Your token is stored hashed; resetting issues a new one and shows it once.</span>
          <ConfirmButton label="Reset token" confirm="Reset" className="btn" onConfirm={() => void reset()} />
        </div>
      )}
    </Section>
  );
}

function Organizations() {
  const { user, refresh } = useSession();
  const orgs = useApi('organizations', () => api<Organization[]>('GET', '/api/organizations'));
  const [error, setError] = useState<ApiError>();
  const roles = new Map((user?.org_membership ?? []).map((m) => [m.organization_id, m]));
  const choose = async (id: number) => {
    setError(undefined);
    try {
      await api('POST', '/api/current-user/active-organization', { organization: id });
      await refresh();
    } catch (err) {
      setError(err as ApiError);
    }
  };
  return (
    <Section title="Organizations" hint="The organization whose projects and people you work with." label="Organizations">
      <ErrorAlert error={error ?? orgs.error} />
      {orgs.loading && !orgs.data && <Loading />}
      <ul className="file-list" style={{ gap: 10 }}>
        {(orgs.data ?? []).map((o) => {
          const active = o.id === user?.active_organization;
          const m = roles.get(o.id);
          return (
            <li key={o.id} style={{ alignItems: 'center' }} data-testid="organization">
              <span className="row">
                <strong>{o.title}</strong>
                {active && <span className="badge badge-accent">Active</span>}
              </span>
              {!active && (
                <button className="btn btn-sm" disabled={m ? !m.active : false} onClick={() => void choose(o.id)}>
                  Switch to {o.title}
                </button>
              )}
            </li>
          );
        })}
      </ul>
    </Section>
  );
}

/** /account. */
export function AccountPage() {
  const { user } = useSession();
  return (
    <Shell crumbs={[{ label: 'Account' }]}>
      <div className="page-head">
        <div>
          <h1>Your account</h1>
          <p>{user?.email}</p>
        </div>
      </div>
      <div className="stack" style={{ gap: 20, maxWidth: 820 }}>
        <Profile />
        <Password />
        <Token />
        <Organizations />
      </div>
    </Shell>
  );
}
