/**
 * Shared state for the modification rules judging one revision k against revision k-1 (pyHanko-style:
 * each rule claims the changed objects it explains; whatever no rule claims is reported as OTHER).
 */
import type { Modification, ModificationLevel } from '../types.js';
import type { PdfHistory } from '@kyso/pdf';
import type { ObjectChange } from '../diff.js';
import { FieldNode, listFields, listPages } from '../fields.js';
import { PdfArray, PdfDict, type PdfObject, PdfRef, PdfStream, deepEqual } from '@kyso/pdf';
import { AnalysisBudgetError, streamBytesEqual } from '../diff.js';

/** What earlier signatures impose on revision k. */
export interface RevisionPolicy {
  /** DocMDP /P of a certification signature made before revision k, if any. */
  docMdp?: 1 | 2 | 3;
  /** Field names locked (FieldMDP) by signatures made before revision k; 'ALL' locks every field. */
  lockedFields: Set<string> | 'ALL';
  /** Fully qualified names of fields that exclude lock ('Exclude' action): everything else is locked. */
  lockExcept?: Set<string>;
}

export interface JudgedModification extends Modification {
  level: ModificationLevel;
}

export const LEVELS: ModificationLevel[] = ['NONE', 'LTA_UPDATES', 'FORM_FILLING', 'ANNOTATIONS', 'OTHER'];

export class RevisionContext {
  readonly prev: number;
  readonly changes = new Map<number, ObjectChange>();
  readonly claimed = new Set<number>();
  readonly mods: JudgedModification[] = [];
  private _fieldsOld?: FieldNode[];
  private _fieldsNew?: FieldNode[];
  private _pagesOld?: { ref?: PdfRef; dict: PdfDict }[];
  private _pagesNew?: { ref?: PdfRef; dict: PdfDict }[];
  private readonly _refIndex = new Map<number, Map<number, Set<number>>>();
  /** Widgets (object numbers) whose appearance may legitimately change in this revision. */
  readonly appearanceOwners = new Set<number>();
  /** Fields (by name) filled or signed in this revision. */
  readonly touchedFields = new Set<string>();
  private readonly _roles = new Map<number, Map<number, Set<string>> | 'TOO_LARGE'>();

  private ticks = 0;

  constructor(readonly doc: PdfHistory, readonly k: number, changes: ObjectChange[], readonly policy: RevisionPolicy, readonly deadline = Infinity) {
    this.prev = k - 1;
    for (const c of changes) this.changes.set(c.num, c);
  }

  old(o: PdfObject | undefined): PdfObject | undefined {
    return this.doc.resolve(o, this.prev);
  }
  now(o: PdfObject | undefined): PdfObject | undefined {
    return this.doc.resolve(o, this.k);
  }

  get fieldsOld(): FieldNode[] {
    return (this._fieldsOld ??= listFields(this.doc, this.prev));
  }
  get fieldsNew(): FieldNode[] {
    return (this._fieldsNew ??= listFields(this.doc, this.k));
  }
  get pagesOld(): { ref?: PdfRef; dict: PdfDict }[] {
    return (this._pagesOld ??= listPages(this.doc, this.prev));
  }
  get pagesNew(): { ref?: PdfRef; dict: PdfDict }[] {
    return (this._pagesNew ??= listPages(this.doc, this.k));
  }

  /** A changed (or added/deleted) object number not yet claimed. */
  open(num: number | undefined): ObjectChange | undefined {
    if (num === undefined || this.claimed.has(num)) return undefined;
    return this.changes.get(num);
  }

  claim(...nums: (number | undefined)[]): void {
    for (const n of nums) if (n !== undefined) this.claimed.add(n);
  }

  /** Records a modification; `allowed` is the rule's own verdict before the DocMDP/FieldMDP policy. */
  report(m: Omit<JudgedModification, 'revision'>, ...claims: (number | undefined)[]): void {
    this.claim(...claims);
    if (this.mods.length < 500) this.mods.push({ revision: this.k, ...m });
  }

  /** Keys of two dictionaries whose values differ. */
  changedKeys(a: PdfDict | undefined, b: PdfDict | undefined): string[] {
    const keys = new Set([...(a?.map.keys() ?? []), ...(b?.map.keys() ?? [])]);
    return [...keys].filter((key) => !deepEqual(a?.get(key), b?.get(key), (x, y) => streamBytesEqual(this.doc, x, y)));
  }

  /** Object numbers reachable from `o` in revision `rev` (bounded breadth-first walk). */
  reachable(o: PdfObject | undefined, rev: number, limit = 20000, maxDepth = 64): Set<number> {
    const out = new Set<number>();
    const stack: { v: PdfObject | undefined; d: number }[] = [{ v: o, d: 0 }];
    let steps = 0;
    while (stack.length && out.size < limit && steps++ < limit * 20) {
      this.tick();
      const { v, d } = stack.pop()!;
      if (d > maxDepth) continue;
      if (v instanceof PdfRef) {
        if (out.has(v.num)) continue;
        out.add(v.num);
        stack.push({ v: this.doc.get(v, rev), d: d + 1 });
      } else if (v instanceof PdfArray) for (const x of v.items) stack.push({ v: x, d: d + 1 });
      else if (v instanceof PdfDict) for (const x of v.map.values()) stack.push({ v: x, d: d + 1 });
      else if (v instanceof PdfStream) for (const x of v.dict.map.values()) stack.push({ v: x, d: d + 1 });
    }
    return out;
  }

  /** Long loops call this: past the deadline the analysis stops (AnalysisBudgetError). */
  tick(): void {
    if ((++this.ticks & 1023) === 0 && Date.now() > this.deadline) throw new AnalysisBudgetError(`time budget exhausted in revision ${this.k}`);
  }

  /** Roles of object `num` in revision `rev` (prev or k), or 'UNKNOWN' when the graph is too large to label. */
  rolesOf(num: number, rev: number): Set<string> | 'UNKNOWN' {
    let r = this._roles.get(rev);
    if (!r) this._roles.set(rev, (r = buildRoles(this.doc, rev, () => this.tick())));
    if (r === 'TOO_LARGE') return 'UNKNOWN';
    return r.get(num) ?? new Set();
  }

  /**
   * True when every role object `num` has — in the signed (previous) revision and in this one — is among
   * `allowed`: a permissive rule may then explain its change. An object that also serves as page content,
   * page-tree node, form, name tree, optional-content configuration, attachment... cannot be re-labelled.
   */
  onlyRoles(num: number, allowed: readonly string[]): boolean {
    for (const rev of [this.prev, this.k]) {
      const roles = this.rolesOf(num, rev);
      if (roles === 'UNKNOWN') return false;
      for (const r of roles) if (!allowed.includes(r)) return false;
    }
    return true;
  }

  /** Who refers to object `num` in the previous revision (built once, lazily). */
  referrers(num: number, rev = this.prev): Set<number> {
    if (!this._refIndex.has(rev)) {
      const idx = new Map<number, Set<number>>();
      const nums = this.doc.objectNumbers(rev).slice(0, 200000);
      for (const n of nums) {
        this.tick();
        const v = this.doc.get(n, rev);
        const stack: PdfObject[] = v === undefined ? [] : [v];
        let steps = 0;
        while (stack.length && steps++ < 100000) {
          const x = stack.pop()!;
          if (x instanceof PdfRef) {
            let s = idx.get(x.num);
            if (!s) idx.set(x.num, (s = new Set()));
            s.add(n);
          } else if (x instanceof PdfArray) stack.push(...x.items);
          else if (x instanceof PdfDict) stack.push(...x.map.values());
          else if (x instanceof PdfStream) stack.push(...x.dict.map.values());
        }
      }
      const t = this.doc.trailer(rev);
      for (const x of t.map.values()) if (x instanceof PdfRef) {
        let s = idx.get(x.num);
        if (!s) idx.set(x.num, (s = new Set()));
        s.add(-1);
      }
      this._refIndex.set(rev, idx);
    }
    return this._refIndex.get(rev)!.get(num) ?? new Set();
  }
}

export interface RoleIndex {
  /** The roles (root entries: 'Catalog/Pages', 'Catalog/DSS', 'Trailer/Info', ...) through which `num` is reachable in `rev`. */
  rolesOf(num: number, rev: number): Set<string> | 'UNKNOWN';
}

/** Maximum objects visited when labelling the object graph of one revision with roles. */
const ROLE_WALK_LIMIT = 400_000;

/**
 * Labels every object reachable from the catalog and the trailer with the root entry it is reached from
 * (every referrer counts: an object reached from /Pages and from /DSS has both roles).
 */
export function buildRoles(doc: PdfHistory, rev: number, tick: () => void = () => undefined): Map<number, Set<string>> | 'TOO_LARGE' {
  const roles = new Map<number, Set<string>>();
  const roots: [string, PdfObject | undefined][] = [];
  const trailer = doc.trailer(rev);
  // Of the trailer only /Info and /Encrypt mean something to viewers (other keys are producers' bookkeeping).
  for (const k of ['Info', 'Encrypt']) if (trailer.has(k)) roots.push([`Trailer/${k}`, trailer.get(k)]);
  const root = trailer.get('Root');
  const cat = doc.catalog(rev);
  if (cat) for (const [k, v] of cat.map) roots.push([`Catalog/${k}`, v]);
  if (root instanceof PdfRef) roles.set(root.num, new Set(['Catalog']));
  let steps = 0;
  for (const [label, start] of roots) {
    const stack: PdfObject[] = start === undefined ? [] : [start];
    while (stack.length) {
      if (++steps > ROLE_WALK_LIMIT) return 'TOO_LARGE';
      tick();
      const v = stack.pop()!;
      if (v instanceof PdfRef) {
        let set = roles.get(v.num);
        if (set?.has(label)) continue;
        if (!set) roles.set(v.num, (set = new Set()));
        set.add(label);
        if (root instanceof PdfRef && v.num === root.num) continue;
        const o = doc.get(v, rev);
        if (o !== undefined && o !== null) stack.push(o);
      } else if (v instanceof PdfArray) for (const x of v.items) stack.push(x);
      else if (v instanceof PdfDict) for (const x of v.map.values()) stack.push(x);
      else if (v instanceof PdfStream) for (const x of v.dict.map.values()) stack.push(x);
    }
  }
  return roles;
}

export function refNum(o: PdfObject | undefined): number | undefined {
  return o instanceof PdfRef ? o.num : undefined;
}

/** A rule judges some of the changes of one revision. */
export interface Rule {
  name: string;
  apply(ctx: RevisionContext): void;
}

/** Whether a widget is visible on the page (non-empty /Rect and not Hidden/NoView). */
export function isVisibleWidget(ctx: RevisionContext, w: PdfDict, rev: number): boolean {
  const r = ctx.doc.resolve(w.get('Rect'), rev);
  const f = ctx.doc.resolve(w.get('F'), rev);
  if (typeof f === 'number' && (f & 2 || f & 32)) return false;
  if (!(r instanceof PdfArray) || r.items.length !== 4) return false;
  const [x1, y1, x2, y2] = r.items.map((x) => (typeof x === 'number' ? x : 0));
  return Math.abs(x2! - x1!) > 0 && Math.abs(y2! - y1!) > 0;
}

/** Objects an appearance dictionary consists of: the /AP dict, state dicts and the streams. */
export function appearanceObjects(ctx: RevisionContext, widget: PdfDict, rev: number): Set<number> {
  const out = new Set<number>();
  const ap = widget.get('AP');
  if (ap instanceof PdfRef) out.add(ap.num);
  const apd = ctx.doc.dict(ap, rev);
  if (!apd) return out;
  for (const key of ['N', 'R', 'D']) {
    const v = apd.get(key);
    if (v instanceof PdfRef) out.add(v.num);
    const r = ctx.doc.resolve(v, rev);
    if (r instanceof PdfDict) for (const s of r.map.values()) if (s instanceof PdfRef) out.add(s.num);
  }
  return out;
}

/**
 * Whether viewers draw an annotation: not Hidden/NoView, not a popup, and either an appearance stream or a
 * non-empty /Rect — an annotation without /AP is still drawn from its own properties (colour, border,
 * /Contents) by poppler and MuPDF.
 */
export function annotationDrawn(doc: PdfHistory, d: PdfDict, rev: number): boolean {
  const f = doc.resolve(d.get('F'), rev);
  if (typeof f === 'number' && (f & 2 || f & 32)) return false;
  if (d.getName('Subtype') === 'Popup') return false;
  if (d.has('AP')) return true;
  const r = doc.array(d.get('Rect'), rev);
  if (r.length !== 4 || !r.every((x) => typeof x === 'number')) return false;
  const [x1, y1, x2, y2] = r as number[];
  return Math.abs(x2! - x1!) > 0 && Math.abs(y2! - y1!) > 0;
}
