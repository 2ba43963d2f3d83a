/**
 * Who is signed in, and what their role lets them do. The permissions come from
 * GET /api/current-user/whoami (the server's own table), so the UI never restates the rules:
 * it hides what `can()` says no to, and the server still refuses it regardless.
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { api, SESSION_ENDED } from '../api/client';
import type { CurrentUser } from '../api/types';

interface Session {
  /** undefined while loading, null when signed out. */
  user: CurrentUser | null | undefined;
  can: (permission: string) => boolean;
  refresh: () => Promise<void>;
  logout: () => Promise<void>;
}

const SessionContext = createContext<Session | null>(null);

/** Loads the current user once and keeps it for the whole app. */
export function SessionProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<CurrentUser | null | undefined>(undefined);
  const refresh = useCallback(async () => {
    try {
      setUser(await api<CurrentUser>('GET', '/api/current-user/whoami'));
    } catch {
      setUser(null);
    }
  }, []);
  const logout = useCallback(async () => {
    await api('POST', '/api/auth/logout').catch(() => undefined);
    setUser(null);
  }, []);
  useEffect(() => {
    void refresh();
    const ended = () => setUser(null);
    window.addEventListener(SESSION_ENDED, ended);
    return () => window.removeEventListener(SESSION_ENDED, ended);
  }, [refresh]);
  const value = useMemo<Session>(() => {
    const perms = new Set(user?.permissions ?? []);
    return { user, can: (p) => perms.has(p), refresh, logout };
  }, [user, refresh, logout]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

/** The session of the signed-in user (inside SessionProvider). */
export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside SessionProvider');
  return s;
}
