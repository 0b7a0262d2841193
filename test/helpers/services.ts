import type { JSONWebKeySet } from 'jose';
import type { Harness } from './harness.js';

/** Simulated LMS services that trust the harness's Courseport (its JWKS through inject) and share its clock. */
export function servicesFor(h: Harness): { clientId: string; getToolJwks: () => Promise<JSONWebKeySet>; now: () => number } {
  return {
    clientId: h.platform.clientId,
    getToolJwks: async () => (await h.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json() as JSONWebKeySet,
    now: () => h.clock.now(),
  };
}

/** Simulated LMS services that read a listening Courseport's JWKS over HTTP. */
export function servicesForLive(baseUrl: string, clientId: string): { clientId: string; getToolJwks: () => Promise<JSONWebKeySet> } {
  return { clientId, getToolJwks: async () => (await (await fetch(`${baseUrl}/.well-known/jwks.json`)).json()) as JSONWebKeySet };
}
