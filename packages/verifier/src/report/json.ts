import { existsSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { ValidationReport } from './model.js';

/**
 * The schema's path: the package's own file, looked up in the node_modules folders Node would search for it (a few
 * stat calls), else through the package's exports map. (resolve() of a subpath runs Node's package-exports
 * resolution, whose first use costs ~3 ms of start-up: every `kyso verify` paid it.)
 */
function schemaPath(): string {
  const req = createRequire(import.meta.url);
  for (const dir of req.resolve.paths('@kyso/verifier') ?? []) {
    const p = join(dir, '@kyso', 'verifier', 'report.schema.json');
    if (existsSync(p)) return realpathSync(p);
  }
  return req.resolve('@kyso/verifier/report.schema.json');
}

/** Absolute path of the JSON Schema describing {@link ValidationReport} (holds from the sources, from dist/ and from
 *  the bundles alike). */
export const REPORT_SCHEMA_PATH = schemaPath();

/** Stable JSON text of a report (or an array of reports), 2-space indented. */
export function toJsonReport(r: ValidationReport | ValidationReport[]): string {
  return JSON.stringify(r, null, 2) + '\n';
}
