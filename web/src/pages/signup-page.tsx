/**
 * Sign up through an organization's invite link (/user/signup?token=…): POST /api/auth/signup.
 * The new account waits for an administrator to give it a role before it can sign in.
 */
import { useState, type FormEvent } from 'react';
import { api, ApiError } from '../api/client';
import { Link, useLocation } from '../app/router';
import { ErrorAlert } from '../components/ui';

/** The invite signup form. */
export function SignupPage() {
  const { query } = useLocation();
  const token = query.get('token') ?? '';
  const [form, setForm] = useState({ email: '', password: '', first_name: '', last_name: '' });
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState(false);
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await api('POST', '/api/auth/signup', { ...form, ...(token && { token }) });
      setCreated(true);
    } catch (err) {
      setError(err as ApiError);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="auth">
      <form className="card auth-card" onSubmit={submit} aria-label="Sign up">
        <div className="brand">
          <span className="brand-mark" aria-hidden>
            ◆
          </span>
          Labelvault
        </div>
        {created ? (
          <>
            <h1>Account created</h1>
            <div className="alert alert-success" role="status">
              An administrator of the organization will give you a role; you can sign in once they have.
            </div>
            <Link to="/login" className="btn btn-lg">
              Go to sign in
            </Link>
          </>
        ) : (
          <>
            <h1>Join your team</h1>
            <p className="sub">{token ? 'You were invited to an organization on Labelvault.' : 'Signing up needs the invite link an administrator shares.'}</p>
            <ErrorAlert error={error} />
            <div className="row" style={{ gap: 12 }}>
              <div className="field" style={{ flex: 1 }}>
                <label htmlFor="first_name">First name</label>
                <input id="first_name" className="input" autoComplete="given-name" maxLength={256} value={form.first_name} onChange={set('first_name')} />
              </div>
              <div className="field" style={{ flex: 1 }}>
                <label htmlFor="last_name">Last name</label>
                <input id="last_name" className="input" autoComplete="family-name" maxLength={256} value={form.last_name} onChange={set('last_name')} />
              </div>
            </div>
            <div className="field">
              <label htmlFor="email">Email</label>
              <input id="email" className="input" type="email" autoComplete="email" required value={form.email} onChange={set('email')} />
            </div>
            <div className="field">
              <label htmlFor="password">Password</label>
              <input id="password" className="input" type="password" autoComplete="new-password" required value={form.password} onChange={set('password')} />
              <span className="hint">A long passphrase is best; the server refuses weak passwords and says why.</span>
            </div>
            <button className="btn btn-primary btn-lg" type="submit" disabled={busy}>
              {busy ? 'Creating account…' : 'Create account'}
            </button>
            <p className="muted" style={{ textAlign: 'center', fontSize: 'var(--fs-sm)' }}>
              Already have an account? <Link to="/login">Sign in</Link>
            </p>
          </>
        )}
      </form>
    </div>
  );
}
