/** Trailer changes: /Encrypt must not change after signing; /Info and other entries are reported for information. */
import { Rule, RevisionContext } from './context.js';
import { PdfArray, PdfRef, deepEqual } from '@kyso/pdf';

const BOOKKEEPING = new Set(['Prev', 'Size', 'XRefStm', 'Type', 'W', 'Index', 'Length', 'Filter', 'DecodeParms', 'Root', 'ID']);

export const trailerRule: Rule = {
  name: 'trailer-rule',
  apply(ctx: RevisionContext): void {
    const a = ctx.doc.trailer(ctx.prev);
    const b = ctx.doc.trailer(ctx.k);
    const keys = ctx.changedKeys(a, b);
    const bad = keys.filter((k) => !BOOKKEEPING.has(k) && k !== 'Info');
    const idA = a.get('ID');
    const idB = b.get('ID');
    if (keys.includes('ID') && idA !== undefined) {
      // the first /ID element must be kept (ISO 32000); the second changes with every update
      const same = idA instanceof PdfArray && idB instanceof PdfArray && deepEqual(idA.items[0], idB.items[0], () => false);
      if (!same) bad.push('ID');
    }
    if (keys.includes('Info')) {
      const i = b.get('Info');
      const st = i instanceof PdfRef ? ctx.changes.get(i.num)?.status : undefined;
      // only a new information dictionary can be claimed (never an existing object repurposed as /Info)
      if (i instanceof PdfRef) ctx.report({ kind: 'metadata-updated', object: i.toString(), allowed: true, rule: this.name, level: 'LTA_UPDATES', description: 'trailer /Info now points at another information dictionary' }, st === 'added' ? i.num : undefined);
    }
    // Only encryption changes what a reader shows; other trailer keys (first /ID element, producer-specific
    // entries such as /AdditionalStreams) are reported for information.
    if (bad.includes('Encrypt')) {
      ctx.report({ kind: 'encryption-changed', object: 'trailer', allowed: false, rule: this.name, level: 'OTHER', description: 'trailer /Encrypt added, removed or replaced after signing' });
    }
    const other = bad.filter((k) => k !== 'Encrypt');
    if (other.length) {
      ctx.report({ kind: 'trailer-updated', object: 'trailer', allowed: true, rule: this.name, level: 'LTA_UPDATES', description: `trailer entries changed: ${other.map((x) => '/' + x).join(', ')}` });
    }
  },
};
