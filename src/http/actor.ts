/** The authenticated caller of a request. */
import type { Role } from '../authz/permissions.js';

export type AuthMethod = 'session' | 'token' | 'pat';

export interface Actor {
  userId: number;
  email: string;
  username: string;
  isSuperuser: boolean;
  /** The organization the request acts in (the user's active one). */
  organizationId: number;
  role: Role;
  authMethod: AuthMethod;
  /** Set when authenticated by a browser session. */
  sessionId?: number;
  /** Set when authenticated by a personal access token's access token. */
  patJti?: string;
  /** Set when authenticated by the legacy token itself (`Token …` / `X-Api-Key`). */
  presentedToken?: string;
}
