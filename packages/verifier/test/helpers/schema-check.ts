/** A small JSON Schema checker (type, enum, required, properties, items, anyOf, $ref to #/$defs) for report tests. */
export function schemaErrors(schema: Record<string, unknown>, value: unknown, root = schema, path = '$'): string[] {
  const s = schema as Record<string, any>;
  if (s.$ref) {
    const name = String(s.$ref).replace('#/$defs/', '');
    return schemaErrors((root as any).$defs[name], value, root, path);
  }
  const errs: string[] = [];
  if (s.anyOf) {
    const ok = (s.anyOf as Record<string, unknown>[]).some((sub) => schemaErrors(sub, value, root, path).length === 0);
    if (!ok) errs.push(`${path}: matches no anyOf branch`);
    return errs;
  }
  if (s.enum && !(s.enum as unknown[]).includes(value)) errs.push(`${path}: ${JSON.stringify(value)} not in enum`);
  if (s.type) {
    const types: string[] = Array.isArray(s.type) ? s.type : [s.type];
    const actual = value === null ? 'null' : Array.isArray(value) ? 'array' : Number.isInteger(value) ? 'integer' : typeof value;
    const ok = types.some((t) => t === actual || (t === 'number' && actual === 'integer'));
    if (!ok) return [`${path}: type ${actual}, expected ${types.join('|')}`];
  }
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const r of (s.required as string[] | undefined) ?? []) if (!(r in (value as object))) errs.push(`${path}: missing ${r}`);
    for (const [k, sub] of Object.entries((s.properties as Record<string, Record<string, unknown>>) ?? {})) {
      if (k in (value as object)) errs.push(...schemaErrors(sub, (value as any)[k], root, `${path}.${k}`));
    }
  }
  if (Array.isArray(value) && s.items) value.forEach((v, i) => errs.push(...schemaErrors(s.items, v, root, `${path}[${i}]`)));
  return errs;
}
