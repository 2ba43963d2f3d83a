/** Sign in with email and password (POST /api/auth/login sets the session and CSRF cookies). */
import { useState, type FormEvent } from 'react';
import { api, ApiError } from '../api/client';
import { useSession } from '../app/session';
import { ErrorAlert } from '../components/ui';

/** The login form; on success the app moves on to the page that was asked for. */
export function LoginPage() {
  const { refresh } = useSession();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await api('POST', '/api/auth/login', { email, password });
      // The app moves on to the page asked for once the session is known.
      await refresh();
    } catch (err) {
      setError(err as ApiError);
      setBusy(false);
    }
  };

  return (
    <div className="auth">
      <form className="card auth-card" onSubmit={submit} aria-label="Log in">
        <div className="brand">
          <span className="brand-mark" aria-hidden>
            ◆
          </span>
          Labelvault
        </div>
        <h1>Welcome back</h1>
        <p className="sub">Sign in to label, review and manage your projects.</p>
        <ErrorAlert error={error} />
        <div className="field">
          <label htmlFor="email">Email</label>
          <input id="email" name="email" className="input" type="email" autoComplete="username" required autoFocus value={email} onChange={(e) => setEmail(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="password">Password</label>
          <input id="password" name="password" className="input" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        </div>
        <button className="btn btn-primary btn-lg" type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <p className="muted" style={{ textAlign: 'center', fontSize: 'var(--fs-sm)' }}>
          No account? Ask an administrator of your organization for an invite link.
        </p>
      </form>
    </div>
  );
}
