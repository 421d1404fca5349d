// Prints jest's totals from its JSON results as one plain line, `N passed, N failed`, so that a
// run that executed no test is visible. Exits non-zero when the results are missing or empty.
import { readFileSync } from 'node:fs';

const file = process.argv[2] ?? 'test-results/jest.json';
let results;
try {
  results = JSON.parse(readFileSync(file, 'utf8'));
} catch (err) {
  console.error(`jest-totals: cannot read jest results from ${file}: ${err.message}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const failed = results.numFailedTests + (results.numRuntimeErrorTestSuites ?? 0);
const skipped = results.numPendingTests + results.numTodoTests;
console.log(`${results.numPassedTests} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(results.numPassedTests > 0 && failed === 0 ? 0 : 1);
