/**
 * First start: the instance's organization, its first Owner (from LABEL_STUDIO_USERNAME /
 * LABEL_STUDIO_PASSWORD / LABEL_STUDIO_USER_TOKEN, or the CLI), or else a one-time setup link.
 */
import type { Transaction } from 'kysely';
import type { AppDeps } from '../../app-deps.js';
import { ConfigError } from '../../config/config.js';
import { recordAuditEvent, SYSTEM_SOURCE, type AuditSource } from '../../audit/recorder.js';
import type { Db } from '../../db/database.js';
import type { Database, OrganizationRow, UserRow } from '../../db/schema.js';
import { AppError, invalid } from '../../http/errors.js';
import { hashPassword } from '../../security/passwords.js';
import { randomToken, safeEqual } from '../../security/secret-key.js';
import { createOrganization } from '../organizations/organizations.service.js';
import { setSuppliedApiToken } from '../tokens/api-token.service.js';
import { findUserByEmail, findUserByUsername, insertUserWithMembership } from '../users/users.repository.js';
import { assertPasswordAcceptable, availableUsername } from '../users/users.service.js';

const SETUP_KEY = 'setup_token_hash';
const setupInvalid = () => new AppError(403, 'SETUP_INVALID', 'This setup link is not valid or setup is already complete.');
export const DEFAULT_ORGANIZATION_TITLE = 'Labelvault';

/** The first organization, created if the instance has none. */
export async function ensureFirstOrganization(deps: AppDeps): Promise<OrganizationRow> {
  const existing = await deps.db.selectFrom('organizations').selectAll().orderBy('id').limit(1).executeTakeFirst();
  if (existing) return existing;
  return deps.db.transaction().execute(async (trx) => {
    const org = await createOrganization(trx, deps.secrets, { title: DEFAULT_ORGANIZATION_TITLE });
    await recordAuditEvent(trx, deps.secrets, SYSTEM_SOURCE, { action: 'organization.create', objectType: 'organization', objectId: org.id, organizationId: org.id, changes: { title: org.title } });
    return org;
  });
}

const countUsers = async (db: Db) => Number((await db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);

export interface OwnerInput {
  email: string;
  password: string;
  username?: string | undefined;
  token?: string | undefined;
}

/**
 * Creates a user in the first organization: its Owner and the instance superuser when it is the
 * first user, else an Annotator. Used by bootstrap, the setup link and the CLI.
 */
export async function createUserInFirstOrganization(deps: AppDeps, input: OwnerInput, source: AuditSource = SYSTEM_SOURCE, opts: { setupMac?: string } = {}): Promise<UserRow> {
  const email = input.email.trim().toLowerCase();
  if (!/^[^\s@]+@[^\s@]+$/.test(email)) throw invalid({ email: ['Enter a valid email address.'] });
  assertPasswordAcceptable(input.password, { email, ...(input.username !== undefined && { username: input.username }) });
  const hash = await hashPassword(input.password, deps.config.passwords.scryptLogN);
  const org = await ensureFirstOrganization(deps);
  const run = async (trx: Transaction<Database>) => {
    if (await findUserByEmail(trx, email)) throw invalid({ email: ['A user with that email already exists.'] });
    if (input.username !== undefined && (await findUserByUsername(trx, input.username))) throw invalid({ username: ['A user with that username already exists.'] });
    if (opts.setupMac !== undefined) {
      // The setup token is consumed inside the transaction: of two racing requests, one deletes it
      // and the other (blocked until the first commits) finds nothing and is refused.
      const consumed = await trx.deleteFrom('instance_settings').where('key', '=', SETUP_KEY).where('value', '=', opts.setupMac).returning('key').executeTakeFirst();
      if (!consumed || (await countUsers(trx)) > 0) throw setupInvalid();
    }
    const first = (await countUsers(trx)) === 0;
    const user = await insertUserWithMembership(trx, {
      email,
      username: input.username ?? (await availableUsername(trx, email)),
      passwordHash: hash,
      isSuperuser: first,
      organizationId: org.id,
      role: first ? 'OW' : 'AN',
    });
    if (first) await trx.updateTable('organizations').set({ created_by_id: user.id }).where('id', '=', org.id).execute();
    if (input.token) {
      await setSuppliedApiToken(trx, deps.secrets, user.id, input.token);
      await recordAuditEvent(trx, deps.secrets, source, { action: 'token.reset', objectType: 'user', objectId: user.id, organizationId: org.id, changes: { via: 'LABEL_STUDIO_USER_TOKEN' } });
    }
    await trx.deleteFrom('instance_settings').where('key', '=', SETUP_KEY).execute();
    await recordAuditEvent(trx, deps.secrets, source, { action: 'user.create', objectType: 'user', objectId: user.id, organizationId: org.id, changes: { email, role: first ? 'OW' : 'AN', superuser: first } });
    return user;
  };
  return deps.db.transaction().execute(run);
}

const ENV_NAMES: Record<string, string> = { email: 'LABEL_STUDIO_USERNAME', password: 'LABEL_STUDIO_PASSWORD', username: 'LABEL_STUDIO_USERNAME' };

/** Bootstrap credentials come from the environment: their problems are named by variable. */
function renameForEnvironment(err: unknown): never {
  if (err instanceof AppError && err.validationErrors) {
    throw new ConfigError(Object.entries(err.validationErrors).map(([field, msgs]) => `${ENV_NAMES[field] ?? field}: ${msgs.join(' ')}`));
  }
  throw err;
}

/**
 * At start: ensure the organization; create the bootstrap Owner if configured and missing;
 * otherwise, while the instance has no user, return a one-time setup token to print.
 */
export async function bootstrapInstance(deps: AppDeps): Promise<{ setupToken?: string; createdOwner?: string }> {
  await ensureFirstOrganization(deps);
  const b = deps.config.bootstrap;
  if (b.username && b.password) {
    const existing = await findUserByEmail(deps.db, b.username);
    if (!existing) {
      await createUserInFirstOrganization(deps, { email: b.username, password: b.password, token: b.token }).catch(renameForEnvironment);
      return { createdOwner: b.username };
    }
    if (b.token && existing.token_hash === null) {
      await deps.db.transaction().execute(async (trx) => {
        await setSuppliedApiToken(trx, deps.secrets, existing.id, b.token!);
        await recordAuditEvent(trx, deps.secrets, SYSTEM_SOURCE, { action: 'token.reset', objectType: 'user', objectId: existing.id, changes: { via: 'LABEL_STUDIO_USER_TOKEN' } });
      });
    }
    return {};
  }
  if ((await countUsers(deps.db)) > 0) return {};
  const setupToken = randomToken(24);
  const now = new Date().toISOString();
  const value = deps.secrets.mac('setup', setupToken);
  await deps.db.deleteFrom('instance_settings').where('key', '=', SETUP_KEY).execute();
  await deps.db.insertInto('instance_settings').values({ key: SETUP_KEY, value, updated_at: now }).execute();
  return { setupToken };
}

/** Completes first-run setup with the printed link's token: creates the Owner. */
export async function completeSetup(deps: AppDeps, source: AuditSource, input: OwnerInput & { setup_token: string }): Promise<UserRow> {
  const row = await deps.db.selectFrom('instance_settings').select('value').where('key', '=', SETUP_KEY).executeTakeFirst();
  const mac = deps.secrets.mac('setup', input.setup_token);
  if (!row || !safeEqual(row.value, mac)) throw setupInvalid();
  return createUserInFirstOrganization(deps, input, source, { setupMac: mac });
}
