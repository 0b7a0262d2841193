/**
 * JSON for an inline `<script type="application/json">` block: `<`, `>` and `&` are escaped so
 * that no value can close the script element or open a comment, and U+2028/U+2029 so that the
 * text is also valid JavaScript. Every page that hands data to a script uses this one escaper.
 */
export function jsonScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}
