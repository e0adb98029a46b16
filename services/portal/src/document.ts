import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { PDFDocument, rgb } from 'pdf-lib';
import fontkit from '@pdf-lib/fontkit';

/** The data of the demo procedure (residence registration declaration). */
export interface DeclarationData {
  name: string;
  personalNumber: string;
  birthdate: string;
  address: string;
  phone: string;
  request: string;
}

let font: Uint8Array | undefined;
function dejavu(): Uint8Array {
  if (!font) font = readFileSync(createRequire(import.meta.url).resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf'));
  return font;
}

/** Splits text into lines no wider than `width` at `size` (words broken only when a word alone is too wide). */
export function wrapText(text: string, width: number, measure: (s: string) => number): string[] {
  const lines: string[] = [];
  for (const para of text.replace(/\r\n?/g, '\n').split('\n')) {
    let cur = '';
    for (const word of para.split(/\s+/).filter(Boolean)) {
      const next = cur ? `${cur} ${word}` : word;
      if (measure(next) <= width) { cur = next; continue; }
      if (cur) lines.push(cur);
      // a word wider than the line is cut into pieces that fit
      let w = word;
      while (measure(w) > width) {
        let n = w.length;
        while (n > 1 && measure(w.slice(0, n)) > width) n--;
        lines.push(w.slice(0, n));
        w = w.slice(n);
      }
      cur = w;
    }
    lines.push(cur);
  }
  return lines;
}

/** A yyyy-mm-dd date as dd/mm/yyyy; anything else unchanged. */
const dmy = (v: string) => { const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v); return m ? `${m[3]}/${m[2]}/${m[1]}` : v; };

/** Where the agency's visible signature goes (kept free): bottom of the page up to this y. */
export const SEAL_AREA_TOP = 215;

/**
 * Produces the unsigned declaration PDF (a new document, so pdf-lib's full save is fine here): every field is
 * wrapped inside the page margins (label in bold position on its own line when the value is long), nothing runs
 * into the agency's signature area at the bottom; a value too long for the page is cut with "…".
 */
export async function makeDeclarationPdf(d: DeclarationData): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  doc.registerFontkit(fontkit);
  const f = await doc.embedFont(dejavu(), { subset: true });
  const p = doc.addPage([595, 842]);
  const left = 60;
  const width = 595 - 2 * left;
  const line = (text: string, y: number, size = 11, x = left) => p.drawText(text, { x, y, size, font: f, color: rgb(0, 0, 0) });
  line('CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM', 770, 13);
  line('Độc lập - Tự do - Hạnh phúc', 752, 11);
  line('TỜ KHAI THAY ĐỔI THÔNG TIN CƯ TRÚ', 715, 14);
  line('(Bản demo — không có giá trị pháp lý)', 698, 9);
  const rows: [string, string][] = [
    ['Họ, chữ đệm và tên', d.name],
    ['Số định danh cá nhân', d.personalNumber],
    ['Ngày sinh', dmy(d.birthdate)],
    ['Nơi thường trú', d.address],
    ['Số điện thoại', d.phone],
    ['Nội dung đề nghị', d.request],
  ];
  const size = 11;
  const lead = 15;
  const floor = SEAL_AREA_TOP + 40;
  const measure = (t: string) => f.widthOfTextAtSize(t, size);
  let y = 664;
  for (const [k, v] of rows) {
    const label = `${k}: `;
    const indent = Math.min(measure(label), 170);
    // the value wraps in the column right of its label
    let lines = wrapText(v.normalize('NFC').replace(/[^\P{C}\n]/gu, ''), width - indent, measure);
    const room = Math.max(1, Math.floor((y - floor) / lead) + 1);
    if (lines.length > room) {
      lines = lines.slice(0, room);
      let last = lines[room - 1]!;
      while (last && measure(`${last}…`) > width - indent) last = last.slice(0, -1);
      lines[room - 1] = `${last}…`;
    }
    line(label.trim(), y, size);
    lines.forEach((l, i) => { if (l) line(l, y - i * lead, size, left + indent); });
    y -= lines.length * lead + 9;
    if (y < floor) break;
  }
  line('Người khai ký số bằng tài khoản định danh điện tử.', Math.max(y - 6, floor - 14), 10);
  line('Xác nhận của cơ quan tiếp nhận:', SEAL_AREA_TOP - 15, 11);
  doc.setTitle('Tờ khai thay đổi thông tin cư trú');
  doc.setProducer('kyso demo portal');
  return doc.save({ useObjectStreams: false });
}
