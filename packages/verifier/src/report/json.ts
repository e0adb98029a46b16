import { createRequire } from 'node:module';
import type { ValidationReport } from './model.js';

/** Absolute path of the JSON Schema describing {@link ValidationReport} (found through the package's exports, so it
 *  holds from the sources, from dist/ and from the bundled dist/index.js alike). */
export const REPORT_SCHEMA_PATH = createRequire(import.meta.url).resolve('@kyso/verifier/report.schema.json');

/** Stable JSON text of a report (or an array of reports), 2-space indented. */
export function toJsonReport(r: ValidationReport | ValidationReport[]): string {
  return JSON.stringify(r, null, 2) + '\n';
}
