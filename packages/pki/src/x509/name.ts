import type * as pkijs from 'pkijs';

/** Short names of common X.500 attribute types (RFC 4514 and the ones Vietnamese CAs use). */
const ATTR_NAMES: Record<string, string> = {
  '2.5.4.3': 'CN', '2.5.4.6': 'C', '2.5.4.7': 'L', '2.5.4.8': 'ST', '2.5.4.10': 'O', '2.5.4.11': 'OU',
  '2.5.4.5': 'serialNumber', '2.5.4.97': 'organizationIdentifier', '2.5.4.4': 'SN', '2.5.4.42': 'GN',
  '1.2.840.113549.1.9.1': 'E', '0.9.2342.19200300.100.1.25': 'DC', '0.9.2342.19200300.100.1.1': 'UID',
  '2.5.4.12': 'title', '2.5.4.9': 'street', '2.5.4.17': 'postalCode',
};

function attrValue(tv: pkijs.AttributeTypeAndValue): string {
  return String((tv.value as { valueBlock?: { value?: unknown } }).valueBlock?.value ?? '');
}

/** RFC 4514-like string of a Name (most specific attribute first, special characters escaped). */
export function nameToString(name: pkijs.RelativeDistinguishedNames): string {
  return name.typesAndValues
    .map((tv) => `${ATTR_NAMES[tv.type] ?? tv.type}=${attrValue(tv).replace(/([,+"\\<>;])/g, '\\$1')}`)
    .reverse()
    .join(', ');
}

/** Canonical key for name comparison (RFC 5280 §7.1, simplified: case-fold and collapse spaces). */
export function nameKey(name: pkijs.RelativeDistinguishedNames): string {
  return name.typesAndValues
    .map((tv) => `${tv.type}=${attrValue(tv).trim().replace(/\s+/g, ' ').toLowerCase()}`)
    .join('|');
}

/** The value of the first attribute of type `oid` in a Name. */
export function nameAttr(name: pkijs.RelativeDistinguishedNames, oid: string): string | undefined {
  const tv = name.typesAndValues.find((t) => t.type === oid);
  return tv ? attrValue(tv) : undefined;
}
