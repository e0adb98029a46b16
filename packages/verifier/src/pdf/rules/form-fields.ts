/** Form filling: a non-signature field's value and its widgets' appearance may change (FORM_FILLING),
 *  unless a FieldMDP lock of an earlier signature covers the field. New non-signature fields are not allowed. */
import { Rule, RevisionContext, RevisionPolicy } from './context.js';
import type { FieldNode } from '../fields.js';

const FIELD_KEYS = new Set(['V', 'AS', 'AP']);
const WIDGET_KEYS = new Set(['AS', 'AP']);

export function isLocked(p: RevisionPolicy, name: string): boolean {
  if (p.lockExcept) return !p.lockExcept.has(name);
  return p.lockedFields === 'ALL' || p.lockedFields.has(name);
}

export const formFieldRule: Rule = {
  name: 'form-field-rule',
  apply(ctx: RevisionContext): void {
    const oldByNum = new Map<number, FieldNode>();
    for (const f of ctx.fieldsOld) if (f.ref) oldByNum.set(f.ref.num, f);
    for (const f of ctx.fieldsNew) {
      if (f.ft === 'Sig') continue;
      const old = f.ref ? oldByNum.get(f.ref.num) : ctx.fieldsOld.find((o) => o.name === f.name);
      const nums = [f.ref?.num, ...f.widgets.map((w) => w.ref?.num)];
      if (!old) {
        ctx.report({ kind: 'field-added', object: f.ref?.toString() ?? f.name, allowed: false, rule: this.name, level: 'OTHER', description: `new ${f.ft ?? 'untyped'} form field '${f.name}' added after signing` }, ...nums);
        continue;
      }
      const touched = nums.some((n) => n !== undefined && ctx.open(n));
      if (!touched) continue;
      const bad: string[] = [];
      if (f.ref && ctx.changes.has(f.ref.num)) for (const k of ctx.changedKeys(old.dict, f.dict)) if (!FIELD_KEYS.has(k)) bad.push(k);
      for (const w of f.widgets) {
        if (!w.ref || w.ref.num === f.ref?.num || !ctx.changes.has(w.ref.num)) continue;
        for (const k of ctx.changedKeys(ctx.doc.dict(w.ref, ctx.prev), w.dict)) if (!WIDGET_KEYS.has(k)) bad.push(k);
      }
      const where = f.ref?.toString() ?? f.name;
      if (bad.length) {
        ctx.report({ kind: 'field-changed', object: where, allowed: false, rule: this.name, level: 'OTHER', description: `form field '${f.name}' changed beyond its value/appearance: ${[...new Set(bad)].map((x) => '/' + x).join(', ')}` }, ...nums);
        continue;
      }
      const valueChanged = f.ref !== undefined && ctx.changes.has(f.ref.num) && ctx.changedKeys(old.dict, f.dict).includes('V');
      if (!valueChanged) {
        ctx.report({ kind: 'appearance-overridden', object: where, allowed: false, rule: this.name, level: 'OTHER', description: `appearance of form field '${f.name}' changed while its value did not (what is shown no longer matches what was signed)` }, ...nums);
        continue;
      }
      if (isLocked(ctx.policy, f.name)) {
        ctx.report({ kind: 'locked-field-changed', object: where, allowed: false, rule: this.name, level: 'FORM_FILLING', description: `form field '${f.name}' is locked by an earlier signature (FieldMDP) but was filled` }, ...nums);
      } else {
        ctx.report({ kind: 'field-filled', object: where, allowed: true, rule: this.name, level: 'FORM_FILLING', description: `form field '${f.name}' filled` }, ...nums);
      }
      for (const w of f.widgets) if (w.ref) ctx.appearanceOwners.add(w.ref.num);
      ctx.touchedFields.add(f.name);
    }
  },
};
