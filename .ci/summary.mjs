// Reads the JSON reports of the vitest runs of .ci/run and ends the log with one plain line,
// `N passed, N failed`, over every suite. Exits non-zero when a test failed, when one was
// skipped or left as todo (no test may skip silently), or when a run left no report.
import { existsSync, readFileSync } from 'node:fs';

let passed = 0;
let failed = 0;
const problems = [];
for (const file of process.argv.slice(2)) {
  if (!existsSync(file)) {
    problems.push(`${file}: no report (the run stopped before its tests, e.g. at the typecheck)`);
    continue;
  }
  const r = JSON.parse(readFileSync(file, 'utf8'));
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  const skipped = r.numPendingTests + r.numTodoTests;
  if (skipped > 0) problems.push(`${file}: ${r.numPendingTests} skipped and ${r.numTodoTests} todo tests: every test must run`);
  if (r.numFailedTestSuites > 0) problems.push(`${file}: ${r.numFailedTestSuites} test files failed`);
  if (!r.success && r.numFailedTests === 0 && r.numFailedTestSuites === 0) problems.push(`${file}: the run did not succeed`);
}
for (const p of problems) console.log(p);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || problems.length > 0 ? 1 : 0);
