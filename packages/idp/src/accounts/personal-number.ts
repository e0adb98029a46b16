/**
 * Vietnamese 12-digit personal identification number (số định danh cá nhân, on the chip ID card):
 *
 *   PPP G YY NNNNNN
 *   PPP    province/municipality code of the birth registration, 001–096 (checked: in range)
 *   G      century + gender: 0/1 = 1900s male/female, 2/3 = 2000s, 4/5 = 2100s, 6/7 = 2200s, 8/9 = 2300s
 *          (checked against the birth year's century, and against gender when it is male/female)
 *   YY     last two digits of the birth year (checked against the birth date)
 *   NNNNNN random serial (not checked)
 *
 * There is no check digit, so a well-formed number can still be wrong: the population record is the authority.
 */
import { IdpError } from '../storage/errors.js';

/** Century base year for each gender/century digit pair index (digit >> 1). */
const CENTURY_BASE = [1900, 2000, 2100, 2200, 2300] as const;

/** What {@link checkPersonalNumber} found wrong (empty = valid). */
export interface PersonalNumberProblem {
  field: 'format' | 'province' | 'century' | 'year' | 'gender';
  message: string;
}

/** Parses YYYY-MM-DD strictly (real calendar date). */
export function parseBirthdate(birthdate: string): { year: number; month: number; day: number } | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(birthdate);
  if (!m) return undefined;
  const year = Number(m[1]), month = Number(m[2]), day = Number(m[3]);
  const d = new Date(Date.UTC(year, month - 1, day));
  if (d.getUTCFullYear() !== year || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) return undefined;
  return { year, month, day };
}

/** Normalises gender strings to male/female when recognisable (English or Vietnamese). */
export function normaliseGender(gender: string | undefined): 'male' | 'female' | undefined {
  if (!gender) return undefined;
  const g = gender.trim().toLowerCase();
  if (['male', 'm', 'nam'].includes(g)) return 'male';
  if (['female', 'f', 'nữ', 'nu'].includes(g)) return 'female';
  return undefined;
}

/**
 * Checks a personal number: exactly 12 ASCII digits, province 001–096, and — when the birth date / gender are
 * given — the century/gender digit and the two year digits. Returns the problems found (empty when valid).
 */
export function checkPersonalNumber(id: string, person: { birthdate?: string; gender?: string } = {}): PersonalNumberProblem[] {
  if (typeof id !== 'string' || !/^[0-9]{12}$/.test(id)) {
    return [{ field: 'format', message: 'personal number must be exactly 12 digits' }];
  }
  const problems: PersonalNumberProblem[] = [];
  const province = Number(id.slice(0, 3));
  if (province < 1 || province > 96) problems.push({ field: 'province', message: `province code ${id.slice(0, 3)} is not in 001–096` });
  const g = Number(id[3]);
  const yy = Number(id.slice(4, 6));
  const birth = person.birthdate ? parseBirthdate(person.birthdate) : undefined;
  if (birth) {
    const base = CENTURY_BASE[g >> 1]!;
    if (birth.year < base || birth.year >= base + 100) {
      problems.push({ field: 'century', message: `century digit ${g} does not match birth year ${birth.year}` });
    }
    if (birth.year % 100 !== yy) problems.push({ field: 'year', message: `year digits ${id.slice(4, 6)} do not match birth year ${birth.year}` });
  }
  const gender = normaliseGender(person.gender);
  if (gender && (g % 2 === 0 ? 'male' : 'female') !== gender) {
    problems.push({ field: 'gender', message: `gender digit ${g} does not match gender ${gender}` });
  }
  return problems;
}

/** Throws PERSONAL_NUMBER_INVALID when {@link checkPersonalNumber} finds a problem. */
export function assertPersonalNumber(id: string, person: { birthdate?: string; gender?: string } = {}): void {
  const problems = checkPersonalNumber(id, person);
  if (problems.length) {
    throw new IdpError('PERSONAL_NUMBER_INVALID', `invalid personal number: ${problems.map((p) => p.message).join('; ')}`);
  }
}

/**
 * Builds a well-formed personal number for tests and demos: province (default 1 = Hà Nội), birth date, gender,
 * serial (0–999999).
 */
export function makePersonalNumber(opts: { birthdate: string; gender?: string; province?: number; serial?: number }): string {
  const birth = parseBirthdate(opts.birthdate);
  if (!birth) throw new IdpError('ACCOUNT_INVALID', `birthdate must be YYYY-MM-DD, got '${opts.birthdate}'`);
  const idx = CENTURY_BASE.findIndex((b) => birth.year >= b && birth.year < b + 100);
  if (idx < 0) throw new IdpError('ACCOUNT_INVALID', `birth year ${birth.year} outside 1900–2399`);
  const female = normaliseGender(opts.gender) === 'female' ? 1 : 0;
  const province = opts.province ?? 1;
  const serial = opts.serial ?? 0;
  return `${String(province).padStart(3, '0')}${idx * 2 + female}${String(birth.year % 100).padStart(2, '0')}${String(serial).padStart(6, '0')}`;
}

/** Age in whole years on the given day (UTC). */
export function ageOn(birthdate: string, now: Date): number {
  const b = parseBirthdate(birthdate);
  if (!b) throw new IdpError('ACCOUNT_INVALID', `birthdate must be YYYY-MM-DD, got '${birthdate}'`);
  let age = now.getUTCFullYear() - b.year;
  const m = now.getUTCMonth() + 1, d = now.getUTCDate();
  if (m < b.month || (m === b.month && d < b.day)) age--;
  return age;
}
