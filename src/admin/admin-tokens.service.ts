import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import { findActiveAdminTokenByHash, insertAdminToken, listAdminTokens, revokeAdminToken, touchAdminToken } from './admin-token.repository.js';
import type { AdminToken, Database } from '../store/tables.js';
import type { Clock } from '../util/clock.js';
import { newId, randomToken } from '../util/ids.js';

const PREFIX = 'cpat_';

function hash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * Bearer tokens for the admin REST API. Only a SHA-256 hash is stored; the token is shown
 * once when created. Tokens carry a recognisable prefix so secret scanners can find leaks.
 */
export class AdminTokenService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  async create(name: string): Promise<{ id: string; token: string }> {
    const id = newId('tok');
    const token = `${PREFIX}${randomToken(32)}`;
    await insertAdminToken(this.db, {
      id,
      name: name.trim() || 'unnamed',
      token_hash: hash(token),
      created_at: this.clock.now(),
      last_used_at: null,
      revoked_at: null,
    });
    return { id, token };
  }

  async authenticate(token: string): Promise<AdminToken | undefined> {
    if (!token.startsWith(PREFIX) || token.length > 200) return undefined;
    const row = await findActiveAdminTokenByHash(this.db, hash(token));
    if (row) await touchAdminToken(this.db, row.id, this.clock.now());
    return row;
  }

  list(): Promise<AdminToken[]> {
    return listAdminTokens(this.db);
  }

  revoke(id: string): Promise<boolean> {
    return revokeAdminToken(this.db, id, this.clock.now());
  }
}
