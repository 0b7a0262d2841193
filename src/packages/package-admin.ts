import type { Kysely } from 'kysely';
import type { ContentStore } from '../content/content-store.js';
import { AppError } from '../errors/app-error.js';
import type { Dialect } from '../store/database.js';
import { findPackage } from './package.repository.js';
import { newAttemptRow } from '../attempts/attempt.repository.js';
import type { Database, Package } from '../store/tables.js';
import type { Clock } from '../util/clock.js';
import { newId } from '../util/ids.js';
import {
  deletePackageRows,
  ensurePreviewLink,
  ensurePreviewPlatform,
  ensurePreviewUser,
  lockPackage,
  packageUse,
  renamePackage,
  replacePreviewAttempt,
  versionStorageKeys,
} from './package-admin.repository.js';
import { checkTitle } from './titles.js';

/**
 * What administrators do to a package besides importing it: rename it, delete it while nothing
 * uses it, and preview it in the player without an LMS. Shared by the console, the API and the CLI;
 * the callers audit.
 */
export class PackageAdmin {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
    private readonly content: ContentStore,
    private readonly clock: Clock,
  ) {}

  async rename(id: string, title: string): Promise<{ package: Package; previousTitle: string }> {
    const clean = checkTitle(title);
    const pkg = await this.require(id);
    const now = this.clock.now();
    if (!(await renamePackage(this.db, id, clean, now))) throw notFound(id);
    return { package: { ...pkg, title: clean, updated_at: now }, previousTitle: pkg.title };
  }

  /**
   * Deletes a package that no LMS link, dispatch or learner attempt uses, with its versions, its
   * previews and its files. The checks and the deletion run under a lock on the package row, so a
   * launch binding it at the same moment either waits for the deletion (and then fails) or is seen.
   */
  async delete(id: string): Promise<{ title: string; versions: number }> {
    const { title, keys } = await this.db.transaction().execute(async (trx) => {
      if (!(await lockPackage(trx, this.dialect, id))) throw notFound(id);
      const pkg = (await findPackage(trx, id))!;
      const use = await packageUse(trx, id);
      if (use.links || use.dispatches || use.attempts) {
        const uses = [
          use.links ? `${use.links} LMS link(s)` : '',
          use.dispatches ? `${use.dispatches} dispatch(es)` : '',
          use.attempts && !use.links ? `${use.attempts} learner attempt(s)` : '',
        ].filter(Boolean);
        throw new AppError('PACKAGE_IN_USE', `“${pkg.title}” cannot be deleted: ${uses.join(' and ')} use it. Nothing was deleted.`, {
          details: { packageId: id, ...use },
          hint: 'Archive it instead: it leaves the content picker, and the links and dispatches that use it keep working.',
        });
      }
      const keys = await versionStorageKeys(trx, id);
      await deletePackageRows(trx, id);
      return { title: pkg.title, keys };
    });
    // The rows are gone, so nothing can ask for these files any more.
    for (const key of keys) await this.content.discard(key);
    return { title, versions: keys.length };
  }

  /**
   * A fresh preview attempt of the package's latest version for an administrator: an internal,
   * disabled platform owns it, so no grade, roster or LMS ever hears of it. Returns the attempt id
   * the player opens.
   */
  async startPreview(packageId: string, adminEmail: string): Promise<string> {
    const pkg = await this.require(packageId);
    if (!pkg.latest_version_id) throw new AppError('PACKAGE_NOT_FOUND', `Package ${pkg.id} has no version to play.`);
    const now = this.clock.now();
    return this.db.transaction().execute(async (trx) => {
      await ensurePreviewPlatform(trx, now);
      const linkId = await ensurePreviewLink(trx, pkg, newId('rl'), now);
      const userId = await ensurePreviewUser(trx, `admin:${adminEmail}`, newId('usr'), now);
      // Staff: never queued for a gradebook (there is none for a preview anyway).
      const attempt = newAttemptRow(
        { id: newId('att'), user_id: userId, resource_link_id: linkId, package_version_id: pkg.latest_version_id!, number: 1, role_kind: 'instructor' },
        now,
      );
      await replacePreviewAttempt(trx, attempt);
      return attempt.id;
    });
  }

  private async require(id: string): Promise<Package> {
    const pkg = await findPackage(this.db, id);
    if (!pkg) throw notFound(id);
    return pkg;
  }
}

const notFound = (id: string) => new AppError('PACKAGE_NOT_FOUND', `No package with id ${id}.`);
