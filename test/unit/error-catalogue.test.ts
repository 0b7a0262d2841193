import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE } from '../../src/errors/app-error.js';

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
const documented = new Map<string, number>();
for (const m of doc.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)) documented.set(m[1]!, Number(m[2]));

describe('error catalogue', () => {
  it.each(Object.entries(ERROR_CATALOGUE))('documents %s with its HTTP status', (code, entry) => {
    expect(documented.get(code)).toBe(entry.status);
  });

  it('documents no code that does not exist', () => {
    for (const code of documented.keys()) expect(Object.keys(ERROR_CATALOGUE)).toContain(code);
  });

  it('answers every refused LTI message with a 4xx, and 5xx only for failures on our side', () => {
    for (const [code, { status }] of Object.entries(ERROR_CATALOGUE)) {
      if (code.startsWith('LTI_')) expect(status).toBeLessThan(500);
      // 5xx: our own failures (the database away among them), and LMS services failing behind a background job (never a page).
      if (status >= 500) expect(['INTERNAL', 'KEY_DECRYPTION_FAILED', 'SERVICE_TOKEN_FAILED', 'SERVICE_CALL_FAILED', 'DATABASE_UNAVAILABLE']).toContain(code);
    }
  });
});
