import ipaddr from 'ipaddr.js';

/**
 * Why a dispatch package exported now would work only near this machine: its launcher plays
 * the course from COURSEPORT_BASE_URL, and a customer's LMS cannot reach a loopback or private
 * address. Undefined for a public address.
 */
export function unreachableOriginReason(baseUrl: string): string | undefined {
  const host = new URL(baseUrl).hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return 'it is a loopback address (this machine only)';
  if (!ipaddr.isValid(host)) return undefined;
  const range = ipaddr.process(host).range();
  if (range === 'loopback' || range === 'unspecified') return 'it is a loopback address (this machine only)';
  if (range === 'private' || range === 'linkLocal' || range === 'uniqueLocal' || range === 'carrierGradeNat')
    return 'it is a private network address (this network only)';
  return undefined;
}
