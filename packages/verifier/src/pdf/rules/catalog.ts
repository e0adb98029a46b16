/** The document catalog may only gain/replace /DSS, /Extensions, /Metadata and /AcroForm (judged elsewhere). */
import { Rule, RevisionContext, refNum } from './context.js';

const LTA_KEYS = new Set(['DSS', 'Extensions']);
const JUDGED_ELSEWHERE = new Set(['AcroForm', 'Metadata', 'StructTreeRoot']);

export const catalogRule: Rule = {
  name: 'catalog-rule',
  apply(ctx: RevisionContext): void {
    const rootOld = refNum(ctx.doc.trailer(ctx.prev).get('Root'));
    const rootNew = refNum(ctx.doc.trailer(ctx.k).get('Root'));
    if (rootOld !== rootNew) {
      ctx.report({ kind: 'catalog-changed', object: `${rootNew ?? '?'} 0 R`, allowed: false, rule: this.name, level: 'OTHER', description: `trailer /Root replaced (${rootOld ?? 'none'} → ${rootNew ?? 'none'})` }, rootNew);
      return;
    }
    const c = ctx.open(rootNew);
    if (!c) return;
    const keys = ctx.changedKeys(ctx.doc.catalog(ctx.prev), ctx.doc.catalog(ctx.k));
    const bad = keys.filter((x) => !LTA_KEYS.has(x) && !JUDGED_ELSEWHERE.has(x) && x !== 'Names');
    if (keys.includes('Names')) {
      // Only the /AP name tree (named appearances that viewers add with annotations) may change.
      const nOld = ctx.doc.dict(ctx.doc.catalog(ctx.prev)?.get('Names'), ctx.prev);
      const nNewRef = ctx.doc.catalog(ctx.k)?.get('Names');
      const nNew = ctx.doc.dict(nNewRef, ctx.k);
      const nk = ctx.changedKeys(nOld, nNew);
      const nn = refNum(nNewRef);
      const nnOk = nn === undefined || ctx.changes.get(nn)?.status === 'added' || nn === refNum(ctx.doc.catalog(ctx.prev)?.get('Names'));
      if (nk.every((x) => x === 'AP') && nnOk) {
        ctx.report({ kind: 'annotation-appearances-updated', object: nn !== undefined ? `${nn} 0 R` : 'catalog /Names', allowed: true, rule: this.name, level: 'ANNOTATIONS', description: 'named appearance tree (/Names /AP) updated' }, nn);
      } else bad.push(...nk.map((x) => `Names/${x}`));
    }
    const metaOld = ctx.doc.catalog(ctx.prev)?.get('Metadata');
    if (keys.includes('Metadata') && metaOld !== undefined && refNum(metaOld) === undefined) bad.push('Metadata');
    if (keys.includes('AcroForm') && ctx.doc.catalog(ctx.prev)?.get('AcroForm') !== undefined && refNum(ctx.doc.catalog(ctx.prev)?.get('AcroForm')) !== undefined && refNum(ctx.doc.catalog(ctx.k)?.get('AcroForm')) !== refNum(ctx.doc.catalog(ctx.prev)?.get('AcroForm'))) bad.push('AcroForm');
    if (bad.length) {
      ctx.report({ kind: 'catalog-changed', object: c.ref, allowed: false, rule: this.name, level: 'OTHER', description: `document catalog changed: ${bad.map((x) => '/' + x).join(', ')}` }, rootNew);
    } else {
      if (keys.includes('Extensions')) ctx.report({ kind: 'extensions-updated', object: c.ref, allowed: true, rule: this.name, level: 'LTA_UPDATES', description: 'catalog /Extensions updated' });
      ctx.claim(rootNew);
    }
  },
};
