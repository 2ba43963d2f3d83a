/**
 * Every migration, in order. Listed statically so the compiled build and the test runner see
 * the same set. Never edit a migration once merged: add a new one.
 */
import type { Migration } from 'kysely';
import * as m0001 from './0001-foundation.js';
import * as m0002 from './0002-labeling-core.js';
import * as m0003 from './0003-data-manager.js';
import * as m0004 from './0004-request-log.js';
import * as m0005 from './0005-double-precision.js';
import * as m0006 from './0006-usage.js';
import * as m0007 from './0007-audit-indexes.js';
import * as m0008 from './0008-workspaces.js';
import * as m0009 from './0009-audit-retention.js';
import * as m0010 from './0010-storages.js';
import * as m0011 from './0011-audit-request-range.js';
import * as m0012 from './0012-audit-sealing.js';
import * as m0013 from './0013-request-log-session.js';
import * as m0014 from './0014-audit-nonce.js';

export const migrations: Record<string, Migration> = {
  '0001-foundation': m0001,
  '0002-labeling-core': m0002,
  '0003-data-manager': m0003,
  '0004-request-log': m0004,
  '0005-double-precision': m0005,
  '0006-usage': m0006,
  '0007-audit-indexes': m0007,
  '0008-workspaces': m0008,
  '0009-audit-retention': m0009,
  '0010-storages': m0010,
  '0011-audit-request-range': m0011,
  '0012-audit-sealing': m0012,
  '0013-request-log-session': m0013,
  '0014-audit-nonce': m0014,
};
