/**
 * New signatures and document timestamps: filling a pre-existing empty signature field, or adding a new
 * signature field (allowed for approval signatures; after certification only invisible ones — a new
 * visible field on a certified document is the Sneaky Signature Attack).
 */
import { Rule, RevisionContext, isVisibleWidget, appearanceObjects } from './context.js';
import { PdfName, PdfRef } from '@kyso/pdf';
import type { FieldNode } from '../fields.js';
import { isLocked } from './form-fields.js';

const FIELD_KEYS_ON_SIGN = new Set(['V', 'AP', 'AS', 'MK', 'Lock', 'SV', 'F']);
const WIDGET_KEYS_ON_SIGN = new Set(['AP', 'AS', 'MK', 'F']);

function isTimestamp(ctx: RevisionContext, f: FieldNode): boolean {
  const sig = ctx.doc.dict(f.dict.get('V'), ctx.k);
  const t = sig?.get('Type');
  const sf = sig?.get('SubFilter');
  return (t instanceof PdfName && t.name === 'DocTimeStamp') || (sf instanceof PdfName && sf.name === 'ETSI.RFC3161');
}

export const signatureFieldRule: Rule = {
  name: 'signature-field-rule',
  apply(ctx: RevisionContext): void {
    const oldByNum = new Map<number, FieldNode>();
    for (const f of ctx.fieldsOld) if (f.ref) oldByNum.set(f.ref.num, f);
    for (const f of ctx.fieldsNew) {
      if (f.ft !== 'Sig') continue;
      const old = f.ref ? oldByNum.get(f.ref.num) : ctx.fieldsOld.find((o) => o.name === f.name);
      const v = f.dict.get('V');
      const signedNow = v !== undefined && v !== null && (old === undefined || old.dict.get('V') === undefined || old.dict.get('V') === null);
      const ts = signedNow && isTimestamp(ctx, f);
      const kind = ts ? 'document-timestamp-added' : 'signature-added';
      const level = ts ? 'LTA_UPDATES' : 'FORM_FILLING';
      const added = (n: number | undefined): number | undefined => (n !== undefined && ctx.changes.get(n)?.status === 'added' ? n : undefined);
      // A new field's objects and any new signature dictionary must be new objects: an existing object
      // reused as such is judged by the other rules, never claimed here.
      const widgetNums = f.widgets.map((w) => (old ? w.ref?.num : added(w.ref?.num)));
      const sigNum = added(v instanceof PdfRef ? v.num : undefined);
      if (!old) {
        const visible = f.widgets.some((w) => isVisibleWidget(ctx, w.dict, ctx.k));
        const claims = [added(f.ref?.num), ...widgetNums, sigNum];
        for (const w of f.widgets) for (const n of appearanceObjects(ctx, w.dict, ctx.k)) if (ctx.changes.get(n)?.status === 'added') claims.push(n);
        if (ctx.policy.docMdp !== undefined && visible && !ts) {
          ctx.report({ kind: 'new-signature-field-after-certification', object: f.ref?.toString() ?? f.name, allowed: false, rule: this.name, level: 'OTHER', description: `new visible signature field '${f.name}' added to a certified document (sneaky signature: its appearance can overlay signed content)` }, ...claims);
        } else {
          ctx.report({ kind: signedNow ? kind : 'signature-field-added', object: f.ref?.toString() ?? f.name, allowed: true, rule: this.name, level: signedNow ? level : 'FORM_FILLING', description: signedNow ? `${ts ? 'document timestamp' : 'signature'} added in new ${visible ? 'visible' : 'invisible'} field '${f.name}'` : `empty signature field '${f.name}' added` }, ...claims);
        }
        for (const w of f.widgets) if (w.ref) ctx.appearanceOwners.add(w.ref.num);
        ctx.touchedFields.add(f.name);
        continue;
      }
      if (!signedNow) {
        // Already signed or still empty: its field and widgets must not change (appearance included).
        const changedWidgets = f.widgets.filter((w) => w.ref && ctx.open(w.ref.num) && w.ref.num !== f.ref?.num);
        const fc = f.ref ? ctx.open(f.ref.num) : undefined;
        if (fc) {
          const keys = ctx.changedKeys(old.dict, f.dict);
          const ap = keys.includes('AP') || keys.includes('AS');
          ctx.report({ kind: ap ? 'appearance-overridden' : 'signature-field-changed', object: fc.ref, allowed: false, rule: this.name, level: 'OTHER', description: `${v ? 'signed' : 'empty'} signature field '${f.name}' changed: ${keys.map((x) => '/' + x).join(', ')}` }, fc.num);
        }
        for (const w of changedWidgets) {
          ctx.report({ kind: 'appearance-overridden', object: w.ref!.toString(), allowed: false, rule: this.name, level: 'OTHER', description: `widget of signature field '${f.name}' changed after signing` }, w.ref!.num);
        }
        continue;
      }
      // Filling a pre-existing empty signature field.
      const bad: string[] = [];
      if (f.ref && ctx.changes.has(f.ref.num)) for (const key of ctx.changedKeys(old.dict, f.dict)) if (!FIELD_KEYS_ON_SIGN.has(key)) bad.push(key);
      for (const w of f.widgets) {
        if (!w.ref || w.ref.num === f.ref?.num || !ctx.changes.has(w.ref.num)) continue;
        const ow = ctx.doc.dict(w.ref, ctx.prev);
        for (const key of ctx.changedKeys(ow, w.dict)) if (!WIDGET_KEYS_ON_SIGN.has(key)) bad.push(key);
      }
      const claims = [f.ref?.num, ...widgetNums, sigNum];
      if (isLocked(ctx.policy, f.name)) {
        ctx.report({ kind: 'locked-field-changed', object: f.ref?.toString() ?? f.name, allowed: false, rule: this.name, level, description: `signature field '${f.name}' is locked by an earlier signature (FieldMDP) but was signed` }, ...claims);
      } else if (bad.length) {
        ctx.report({ kind: 'signature-field-changed', object: f.ref?.toString() ?? f.name, allowed: false, rule: this.name, level: 'OTHER', description: `signing field '${f.name}' also changed ${[...new Set(bad)].map((x) => '/' + x).join(', ')}` }, ...claims);
      } else {
        ctx.report({ kind, object: f.ref?.toString() ?? f.name, allowed: true, rule: this.name, level, description: `${ts ? 'document timestamp' : 'signature'} added in existing field '${f.name}'` }, ...claims);
      }
      for (const w of f.widgets) if (w.ref) ctx.appearanceOwners.add(w.ref.num);
      ctx.touchedFields.add(f.name);
    }
  },
};
