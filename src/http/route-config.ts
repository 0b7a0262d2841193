/** Route config for a per-address limit of `perMinute` requests (none when 0 or unset). */
export function perMinute(perMinute: number | undefined): { rateLimit?: { max: number; timeWindow: number } } {
  return perMinute ? { rateLimit: { max: perMinute, timeWindow: 60_000 } } : {};
}
