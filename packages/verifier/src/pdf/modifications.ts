/**
 * Modification analysis: runs the rules on every revision after the first, then applies the DocMDP /
 * FieldMDP policy of the signatures made before each revision.
 */
import type { Finding, ModificationLevel, PdfSignatureInfo } from './types.js';
import type { PdfHistory } from '@kyso/pdf';
import { AnalysisBudgetError, revisionChanges } from './diff.js';
import { RULES, RevisionContext, type RevisionPolicy, type JudgedModification, type Rule, LEVELS } from './rules/index.js';

const MAX_FOR_DOCMDP: Record<1 | 2 | 3, ModificationLevel> = { 1: 'LTA_UPDATES', 2: 'FORM_FILLING', 3: 'ANNOTATIONS' };

export function levelMax(a: ModificationLevel, b: ModificationLevel): ModificationLevel {
  return LEVELS.indexOf(a) >= LEVELS.indexOf(b) ? a : b;
}

/** Policy in force for changes made in revision k, from the signatures of revisions < k. */
export function policyFor(sigs: PdfSignatureInfo[], k: number): RevisionPolicy {
  const p: RevisionPolicy = { lockedFields: new Set() };
  for (const s of sigs) {
    if (s.revision >= k || !s.coverage) continue;
    if (s.isCertification && s.docMdpPermissions && p.docMdp === undefined) p.docMdp = s.docMdpPermissions;
    const l = s.fieldLock;
    if (!l) continue;
    if (l.action === 'All') p.lockedFields = 'ALL';
    else if (l.action === 'Include' && p.lockedFields !== 'ALL') for (const f of l.fields) p.lockedFields.add(f);
    else if (l.action === 'Exclude') {
      const ex = new Set(l.fields);
      p.lockExcept = p.lockExcept ? new Set([...p.lockExcept].filter((x) => ex.has(x))) : ex;
    }
  }
  return p;
}

/** Judged modifications of each revision k ≥ 1 (index k), never throwing. */
export function analyzeRevisions(doc: PdfHistory, sigs: PdfSignatureInfo[], findings: Finding[], deadline: number, signal?: AbortSignal, rules: readonly Rule[] = RULES): JudgedModification[][] {
  const out: JudgedModification[][] = [[]];
  const first = Math.min(...sigs.map((s) => (s.revision >= 0 ? s.revision : Infinity)));
  for (let k = 1; k < doc.revisions.length; k++) {
    const mods: JudgedModification[] = [];
    out.push(mods);
    if (k <= first) continue; // no signature sees these revisions as "after"
    if (Date.now() > deadline || signal?.aborted) {
      mods.push({ revision: k, kind: 'analysis-incomplete', allowed: false, rule: 'analysis', level: 'OTHER', description: `modification analysis of revision ${k} skipped: ${signal?.aborted ? 'aborted' : 'time budget exhausted'}` });
      continue;
    }
    try {
      const policy = policyFor(sigs, k);
      const ctx = new RevisionContext(doc, k, revisionChanges(doc, k, deadline), policy, deadline);
      for (const r of rules) r.apply(ctx);
      for (const m of ctx.mods) {
        if (m.allowed && policy.docMdp !== undefined && LEVELS.indexOf(m.level) > LEVELS.indexOf(MAX_FOR_DOCMDP[policy.docMdp])) {
          m.allowed = false;
          m.description += ` — not permitted by the certification signature (DocMDP P=${policy.docMdp})`;
        }
        mods.push(m);
      }
    } catch (e) {
      if (e instanceof AnalysisBudgetError) {
        findings.push({ code: 'ANALYSIS_BUDGET_EXCEEDED', severity: 'error', message: `modification analysis of revision ${k} stopped: ${e.message}`, where: `revision ${k}` });
        mods.push({ revision: k, kind: 'analysis-incomplete', allowed: false, rule: 'analysis', level: 'OTHER', description: `modification analysis of revision ${k} stopped: ${e.message}` });
        continue;
      }
      findings.push({ code: 'MODIFICATION_ANALYSIS_FAILED', severity: 'error', message: `modification analysis of revision ${k} failed: ${(e as Error).message}`, where: `revision ${k}` });
      mods.push({ revision: k, kind: 'analysis-failed', allowed: false, rule: 'analysis', level: 'OTHER', description: `revision ${k} could not be analysed: ${(e as Error).message}` });
    }
  }
  return out;
}
