import type { Migration, MigrationProvider } from 'kysely';
import * as m0001 from './0001-initial.js';
import * as m0002 from './0002-scorm.js';
import * as m0003 from './0003-platform-storage.js';
import * as m0004 from './0004-grades.js';
import * as m0005 from './0005-rosters.js';
import * as m0006 from './0006-audit-log.js';
import * as m0007 from './0007-admin-console.js';
import * as m0008 from './0008-registration.js';
import * as m0009 from './0009-key-lifecycle.js';
import * as m0012 from './0012-attempt-role.js';
import * as m0011 from './0011-line-item-claim.js';
import * as m0010 from './0010-dispatch.js';
import * as m0013 from './0013-platform-missing-kid.js';
import * as m0014 from './0014-grade-order.js';

/** Every migration, in order. Names sort lexically; never rename or edit a shipped one. */
const MIGRATIONS: Record<string, Migration> = {
  '0001-initial': m0001,
  '0002-scorm': m0002,
  '0003-platform-storage': m0003,
  '0004-grades': m0004,
  '0005-rosters': m0005,
  '0006-audit-log': m0006,
  '0007-admin-console': m0007,
  '0008-registration': m0008,
  '0009-key-lifecycle': m0009,
  '0010-dispatch': m0010,
  '0011-line-item-claim': m0011,
  '0012-attempt-role': m0012,
  '0013-platform-missing-kid': m0013,
  '0014-grade-order': m0014,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => MIGRATIONS,
};

export const LATEST_MIGRATION = Object.keys(MIGRATIONS).sort().at(-1) ?? '';
