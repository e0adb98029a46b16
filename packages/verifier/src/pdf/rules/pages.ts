/**
 * Pages: added/removed pages, page dictionaries, content streams and resources (fonts, XObjects...) of the
 * signed revision must not change. Annotations on pages are judged here too (ANNOTATIONS level).
 */
import { Rule, RevisionContext, annotationDrawn, refNum } from './context.js';
import { PdfArray, PdfDict, PdfName, type PdfObject, PdfRef, PdfStream } from '@kyso/pdf';

function annotRefs(ctx: RevisionContext, page: PdfDict, rev: number): PdfRef[] {
  return ctx.doc.array(page.get('Annots'), rev).filter((a): a is PdfRef => a instanceof PdfRef).slice(0, 20000);
}

export const pageRule: Rule = {
  name: 'page-rule',
  apply(ctx: RevisionContext): void {
    const po = ctx.pagesOld;
    const pn = ctx.pagesNew;
    const oldNums = po.map((p) => p.ref?.num);
    const newNums = pn.map((p) => p.ref?.num);
    const oldSet = new Set(oldNums);
    const newSet = new Set(newNums);
    // Page tree nodes of both revisions (to claim them with page-added/removed).
    const treeNodes = new Set<number>();
    const addTree = (o: PdfObject | undefined, rev: number, d: number): void => {
      if (d > 32 || treeNodes.size > 100000) return;
      const n = refNum(o);
      const dict = ctx.doc.dict(o, rev);
      if (!dict) return;
      const t = dict.get('Type');
      if (!(t instanceof PdfName && t.name === 'Pages')) return;
      if (n !== undefined) {
        if (treeNodes.has(n)) return;
        treeNodes.add(n);
      }
      for (const k of ctx.doc.array(dict.get('Kids'), rev)) addTree(k, rev, d + 1);
    };
    const pagesChanged = oldNums.length !== newNums.length || oldNums.some((n, i) => n !== newNums[i]);
    if (pagesChanged) {
      addTree(ctx.doc.catalog(ctx.prev)?.get('Pages'), ctx.prev, 0);
      addTree(ctx.doc.catalog(ctx.k)?.get('Pages'), ctx.k, 0);
      const tree = [...treeNodes].filter((n) => ctx.open(n));
      newNums.forEach((n, i) => {
        if (!oldSet.has(n)) ctx.report({ kind: 'page-added', object: `page ${i + 1}`, allowed: false, rule: this.name, level: 'OTHER', description: `page ${i + 1}${n !== undefined ? ` (${n} 0 R)` : ''} added after signing` }, n, ...tree);
      });
      oldNums.forEach((n, i) => {
        if (!newSet.has(n)) ctx.report({ kind: 'page-removed', object: `page ${i + 1}`, allowed: false, rule: this.name, level: 'OTHER', description: `page ${i + 1}${n !== undefined ? ` (${n} 0 R)` : ''} of the signed revision removed` }, n, ...tree);
      });
      if (oldSet.size === newSet.size && [...oldSet].every((n) => newSet.has(n))) {
        ctx.report({ kind: 'page-order-changed', object: 'page tree', allowed: false, rule: this.name, level: 'OTHER', description: 'pages reordered after signing' }, ...tree);
      }
    }
    // Content streams and resources of the signed pages (resources shared between pages are walked once).
    // Judged before any annotation rule: an object that is page content and also an annotation's
    // appearance is judged as page content.
    const seenResources = new Set<number>();
    po.forEach((p, i) => {
      const contents = p.dict.get('Contents');
      const cn = refNum(contents);
      const streams = [cn, ...ctx.doc.array(contents, ctx.prev).map(refNum)];
      for (const s of streams) {
        const c = ctx.open(s);
        if (c) ctx.report({ kind: 'page-content-changed', object: c.ref, allowed: false, rule: this.name, level: 'OTHER', description: `content stream ${c.ref} of page ${i + 1} ${c.status === 'deleted' ? 'deleted' : 'rewritten'} after signing` }, s);
      }
      for (const r of resourceWalk(ctx, p.dict.get('Resources'), seenResources)) {
        const c = ctx.open(r);
        if (c) ctx.report({ kind: 'resource-changed', object: c.ref, allowed: false, rule: this.name, level: 'OTHER', description: `resource ${c.ref} used by page ${i + 1} (${describe(ctx, c.old)}) ${c.status === 'deleted' ? 'deleted' : 'redefined'} after signing` }, r);
      }
    });
    const oldAnnotNums = new Map<number, number>();
    po.forEach((p, i) => {
      for (const a of annotRefs(ctx, p.dict, ctx.prev)) oldAnnotNums.set(a.num, i);
    });
    pn.forEach((p, i) => {
      const n = p.ref?.num;
      if (n === undefined || !oldSet.has(n)) return;
      const oldPage = ctx.doc.dict(p.ref, ctx.prev);
      const c = ctx.changes.get(n);
      const annotsOld = oldPage ? annotRefs(ctx, oldPage, ctx.prev) : [];
      const annotsNew = annotRefs(ctx, p.dict, ctx.k);
      if (c && !ctx.claimed.has(n)) {
        const keys = ctx.changedKeys(oldPage, p.dict);
        const other = keys.filter((k) => k !== 'Annots');
        if (other.length) {
          const kind = other.includes('Contents') ? 'page-content-changed' : other.includes('Resources') ? 'resource-changed' : 'page-changed';
          ctx.report({ kind, object: `${n} 0 R`, allowed: false, rule: this.name, level: 'OTHER', description: `page ${i + 1} dictionary changed after signing: ${other.map((x) => '/' + x).join(', ')}` }, n);
        } else ctx.claim(n);
      }
      const annotsArr = refNum(p.dict.get('Annots'));
      const annotsArrOld = refNum(oldPage?.get('Annots'));
      if (annotsArr !== undefined && (annotsArr === annotsArrOld || ctx.changes.get(annotsArr)?.status === 'added')) ctx.claim(annotsArr);
      const before = new Set(annotsOld.map((a) => a.num));
      const after = new Set(annotsNew.map((a) => a.num));
      for (const a of annotsNew) {
        if (before.has(a.num) || ctx.appearanceOwners.has(a.num)) continue;
        const ad = ctx.doc.dict(a, ctx.k);
        const sub = ad?.get('Subtype');
        const st = sub instanceof PdfName ? sub.name : 'unknown';
        if (st === 'Widget') {
          ctx.report({ kind: 'widget-added', object: a.toString(), allowed: false, rule: this.name, level: 'OTHER', description: `widget annotation ${a} added on page ${i + 1} without a form field being signed or filled` }, a.num);
        } else {
          const action = st === 'Link' || ad?.has('A') || ad?.has('AA');
          const drawn = ad !== undefined && annotationDrawn(ctx.doc, ad, ctx.k);
          ctx.report({ kind: 'annotation-added', object: a.toString(), allowed: true, ...(action || drawn ? { warning: true } : {}), rule: this.name, level: 'ANNOTATIONS', description: `/${st} annotation added on page ${i + 1}${action ? ' (a link or action: it can take the reader elsewhere)' : ''}${drawn ? ' (drawn over the page)' : ''}` }, a.num, ...[...ctx.reachable(ad?.get('AP'), ctx.k, 2000)].filter((n) => ctx.changes.get(n)?.status === 'added'));
        }
      }
      for (const a of annotsOld) {
        if (after.has(a.num)) continue;
        ctx.report({ kind: 'annotation-removed', object: a.toString(), allowed: true, rule: this.name, level: 'ANNOTATIONS', description: `annotation ${a} removed from page ${i + 1}` });
      }
    });
    // Existing annotations modified in place (widgets are judged by the field rules).
    for (const [num, pi] of oldAnnotNums) {
      const c = ctx.open(num);
      if (!c) continue;
      const d = ctx.doc.dict(new PdfRef(num, 0), ctx.prev);
      const sub = d?.get('Subtype');
      if (sub instanceof PdfName && sub.name === 'Widget') continue;
      ctx.report({ kind: 'annotation-modified', object: c.ref, allowed: true, rule: this.name, level: 'ANNOTATIONS', description: `annotation ${c.ref} on page ${pi + 1} modified` }, num);
    }
    // Appearance streams of existing (non-widget) annotations redefined in place.
    for (const [num, pi] of oldAnnotNums) {
      const d = ctx.doc.dict(new PdfRef(num, 0), ctx.prev);
      const sub = d?.get('Subtype');
      if (!d || (sub instanceof PdfName && sub.name === 'Widget')) continue;
      for (const n of ctx.reachable(d.get('AP'), ctx.prev, 200, 4)) {
        const c = ctx.open(n);
        if (c) ctx.report({ kind: 'annotation-modified', object: c.ref, allowed: true, rule: this.name, level: 'ANNOTATIONS', description: `appearance ${c.ref} of annotation ${num} 0 R on page ${pi + 1} redefined` }, n);
      }
    }
  },
};

function describe(ctx: RevisionContext, o: PdfObject | undefined): string {
  const d = ctx.doc.dict(o, ctx.prev);
  const t = d?.get('Type');
  const s = d?.get('Subtype');
  const parts = [t instanceof PdfName ? t.name : '', s instanceof PdfName ? s.name : ''].filter(Boolean);
  if (parts.length) return parts.join('/');
  return o instanceof PdfArray ? 'array' : d ? 'dictionary' : 'object';
}

/** Objects reachable from a page's resources (fonts, nested form XObjects, images...), skipping `seen`. */
function resourceWalk(ctx: RevisionContext, root: PdfObject | undefined, seen: Set<number>): number[] {
  const out: number[] = [];
  const stack: { v: PdfObject | undefined; d: number }[] = [{ v: root, d: 0 }];
  let steps = 0;
  while (stack.length && steps++ < 200000 && seen.size < 200000) {
    const { v, d } = stack.pop()!;
    if (d > 48 || v === undefined || v === null || typeof v !== 'object') continue;
    if (v instanceof PdfRef) {
      if (seen.has(v.num)) continue;
      seen.add(v.num);
      out.push(v.num);
      stack.push({ v: ctx.doc.get(v, ctx.prev), d: d + 1 });
    } else if (v instanceof PdfArray) for (const x of v.items) stack.push({ v: x, d: d + 1 });
    else if (v instanceof PdfDict) {
      for (const [k, x] of v.map) if (k !== 'Parent' && k !== 'P') stack.push({ v: x, d: d + 1 });
    } else if (v instanceof PdfStream) for (const [k, x] of v.dict.map) if (k !== 'Parent') stack.push({ v: x, d: d + 1 });
  }
  return out;
}
