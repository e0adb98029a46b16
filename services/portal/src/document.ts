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

/**
 * Produces the unsigned declaration PDF (a new document, so pdf-lib's full save is fine here), with an empty
 * area at the bottom where the agency's visible signature goes.
 */
export async function makeDeclarationPdf(d: DeclarationData): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  doc.registerFontkit(fontkit);
  const f = await doc.embedFont(dejavu(), { subset: true });
  const p = doc.addPage([595, 842]);
  const line = (text: string, y: number, size = 11) => p.drawText(text, { x: 60, y, size, font: f, color: rgb(0, 0, 0) });
  line('CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM', 770, 13);
  line('Độc lập - Tự do - Hạnh phúc', 752, 11);
  line('TỜ KHAI THAY ĐỔI THÔNG TIN CƯ TRÚ', 715, 14);
  line('(Bản demo — không có giá trị pháp lý)', 698, 9);
  const rows: [string, string][] = [
    ['Họ, chữ đệm và tên', d.name],
    ['Số định danh cá nhân', d.personalNumber],
    ['Ngày sinh', d.birthdate],
    ['Nơi thường trú', d.address],
    ['Số điện thoại', d.phone],
    ['Nội dung đề nghị', d.request],
  ];
  let y = 660;
  for (const [k, v] of rows) {
    line(`${k}: ${v}`, y);
    y -= 24;
  }
  line('Người khai ký số bằng tài khoản định danh điện tử.', y - 12, 10);
  line('Xác nhận của cơ quan tiếp nhận:', 200, 11);
  doc.setTitle('Tờ khai thay đổi thông tin cư trú');
  doc.setProducer('kyso demo portal');
  return doc.save({ useObjectStreams: false });
}
