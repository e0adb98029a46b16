/** Document information dictionary and XMP metadata updates: allowed, reported for information. */
import { Rule, RevisionContext, refNum } from './context.js';
import { PdfName } from '@kyso/pdf';

export const metadataRule: Rule = {
  name: 'metadata-rule',
  apply(ctx: RevisionContext): void {
    const info = refNum(ctx.doc.trailer(ctx.k).get('Info'));
    const oldInfo = refNum(ctx.doc.trailer(ctx.prev).get('Info'));
    const ci = ctx.open(info);
    if (ci && info !== undefined && ci.status !== 'deleted' && (ci.status === 'added' || info === oldInfo) && ctx.onlyRoles(info, ['Trailer/Info'])) {
      ctx.report({ kind: 'metadata-updated', object: ci.ref, allowed: true, rule: this.name, level: 'LTA_UPDATES', description: 'document information dictionary (/Info) updated' }, info);
    }
    const xmp = refNum(ctx.doc.catalog(ctx.k)?.get('Metadata'));
    const oldXmp = refNum(ctx.doc.catalog(ctx.prev)?.get('Metadata'));
    const cx = ctx.open(xmp);
    // Runs after the page rule: a stream that pages use was already judged there.
    const t = ctx.doc.dict(cx?.now as never, ctx.k)?.get('Type');
    if (cx && xmp !== undefined && cx.status !== 'deleted' && (cx.status === 'added' || xmp === oldXmp) && t instanceof PdfName && t.name === 'Metadata' && ctx.onlyRoles(xmp, ['Catalog/Metadata'])) {
      ctx.report({ kind: 'metadata-updated', object: cx.ref, allowed: true, rule: this.name, level: 'LTA_UPDATES', description: 'XMP metadata stream updated' }, xmp);
    }
  },
};
