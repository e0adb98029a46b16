import { fileURLToPath } from 'node:url';
import type { ValidationReport } from './model.js';

/** Absolute path of the JSON Schema describing {@link ValidationReport}. */
export const REPORT_SCHEMA_PATH = fileURLToPath(new URL('../../report.schema.json', import.meta.url));

/** Stable JSON text of a report (or an array of reports), 2-space indented. */
export function toJsonReport(r: ValidationReport | ValidationReport[]): string {
  return JSON.stringify(r, null, 2) + '\n';
}
