/** `D:YYYYMMDDHHmmSS+HH'mm'` for /M, in the given UTC offset (minutes). */
export function pdfDate(d: Date, offsetMinutes = 0): string {
  const t = new Date(d.getTime() + offsetMinutes * 60_000);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  const base = `D:${p(t.getUTCFullYear(), 4)}${p(t.getUTCMonth() + 1)}${p(t.getUTCDate())}${p(t.getUTCHours())}${p(t.getUTCMinutes())}${p(t.getUTCSeconds())}`;
  if (offsetMinutes === 0) return base + 'Z';
  const sign = offsetMinutes > 0 ? '+' : '-';
  const a = Math.abs(offsetMinutes);
  return `${base}${sign}${p(Math.floor(a / 60))}'${p(a % 60)}'`;
}

/** `YYYY-MM-DD HH:mm:ss +HH:MM` for the visible appearance. */
export function displayDate(d: Date, offsetMinutes = 0): string {
  const t = new Date(d.getTime() + offsetMinutes * 60_000);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  const sign = offsetMinutes >= 0 ? '+' : '-';
  const a = Math.abs(offsetMinutes);
  return `${p(t.getUTCFullYear(), 4)}-${p(t.getUTCMonth() + 1)}-${p(t.getUTCDate())} ${p(t.getUTCHours())}:${p(t.getUTCMinutes())}:${p(t.getUTCSeconds())} ${sign}${p(Math.floor(a / 60))}:${p(a % 60)}`;
}
