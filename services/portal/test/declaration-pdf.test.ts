/**
 * The generated declaration (issue 14, point 8): every field wrapped inside the page, nothing cut or overlapping,
 * nothing in the agency's signature area — checked with poppler's `pdftotext -bbox` (an independent reader), and
 * rendered with `pdftoppm` (KYSO_PORTAL_PDF_PNG keeps the picture for a look).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SEAL_AREA_TOP, makeDeclarationPdf, type DeclarationData } from '../src/document.js';

interface Word { xMin: number; yMin: number; xMax: number; yMax: number; text: string }

function words(pdf: Uint8Array, dir: string): { page: { w: number; h: number }; words: Word[] } {
  const file = join(dir, 'd.pdf');
  writeFileSync(file, pdf);
  const html = execFileSync('pdftotext', ['-bbox', file, '-'], { encoding: 'utf8' });
  const pg = /<page width="([\d.]+)" height="([\d.]+)"/.exec(html)!;
  const ws: Word[] = [];
  for (const m of html.matchAll(/<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<\/word>/g)) {
    ws.push({ xMin: +m[1]!, yMin: +m[2]!, xMax: +m[3]!, yMax: +m[4]!, text: m[5]!.replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'") });
  }
  return { page: { w: +pg[1]!, h: +pg[2]! }, words: ws };
}

const squash = (s: string) => s.normalize('NFC').replace(/\s+/g, '');

describe('portal: the generated declaration PDF', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'kyso-decl-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const cases: [string, DeclarationData][] = [
    ['ordinary', { name: 'Trần Thị Bình', personalNumber: '079190000002', birthdate: '1990-05-17', address: '12 Lê Lợi, Quận 1, TP Hồ Chí Minh', phone: '+84907654321', request: 'Đăng ký thay đổi nơi thường trú' }],
    ['longest fields', {
      name: 'Công Tôn Nữ Hoàng Thị Phương Thảo Nguyên Minh Khai Ngọc Diệp',
      personalNumber: '079190000002', birthdate: '1990-05-17',
      address: ('Số 123/45/6 hẻm 789 đường Nguyễn Văn Linh, khu phố 4, phường Tân Thuận Tây, Quận 7, Thành phố Hồ Chí Minh, Việt Nam — '
        + 'Ấp Phước Lộc, xã Phước Kiển, huyện Nhà Bè, tỉnh cũ, gần chợ').slice(0, 200),
      phone: '+84 907 654 321 / 028 3888 9999 ext 12',
      request: ('Đăng ký thay đổi nơi thường trú từ địa chỉ cũ sang địa chỉ mới do chuyển công tác; kèm theo hợp đồng thuê nhà, giấy xác nhận của chủ hộ, '
        + 'và bản sao giấy khai sinh của hai con dưới 14 tuổi cùng chuyển theo. Đề nghị cơ quan xem xét giải quyết trong thời hạn luật định. Xin cảm ơn quý cơ quan rất nhiều!!').slice(0, 300),
    }],
    ['one unbroken word', { name: 'Lê Văn Tám', personalNumber: '001085000003', birthdate: '1985-01-02', address: 'X'.repeat(120) + 'ĐƯỜNGDÀIKHÔNGCÁCHRASỐMỘTTRĂM', phone: '0'.repeat(30), request: 'Y'.repeat(300) }],
  ];

  for (const [label, data] of cases) {
    it(`${label}: every field inside the page, whole, not overlapping, clear of the seal area`, async () => {
      const pdf = await makeDeclarationPdf(data);
      const { page, words: ws } = words(pdf, dir);
      assert.ok(ws.length > 20);
      for (const w of ws) {
        assert.ok(w.xMin >= 40 && w.xMax <= page.w - 40, `"${w.text}" inside the left/right margins (${w.xMin}..${w.xMax} of ${page.w})`);
        assert.ok(w.yMin >= 20 && w.yMax <= page.h - 20, `"${w.text}" inside the page vertically`);
      }
      // nothing overlaps: no two word boxes intersect
      for (let i = 0; i < ws.length; i++) {
        for (let j = i + 1; j < ws.length; j++) {
          const a = ws[i]!; const b = ws[j]!;
          const overlap = Math.min(a.xMax, b.xMax) - Math.max(a.xMin, b.xMin) > 0.5 && Math.min(a.yMax, b.yMax) - Math.max(a.yMin, b.yMin) > 0.5;
          assert.ok(!overlap, `"${a.text}" and "${b.text}" overlap`);
        }
      }
      // the agency's signature area (bottom of the page, up to SEAL_AREA_TOP points) stays empty
      for (const w of ws) assert.ok(page.h - w.yMax >= SEAL_AREA_TOP - 20, `"${w.text}" is above the seal area`);
      // every field is there in full (reading order), and dates are dd/mm/yyyy
      const all = squash(ws.map((w) => w.text).join(''));
      for (const v of [data.name, data.address, data.phone, data.request, data.personalNumber]) assert.ok(all.includes(squash(v)), `field "${v.slice(0, 40)}…" is complete`);
      const [yy, mm, dd] = data.birthdate.split('-');
      assert.ok(all.includes(`${dd}/${mm}/${yy}`), 'birth date as dd/mm/yyyy');
      // poppler renders it
      const png = join(dir, `${label.replace(/\W+/g, '-')}`);
      execFileSync('pdftoppm', ['-png', '-r', '60', '-singlefile', join(dir, 'd.pdf'), png]);
      assert.ok(readFileSync(`${png}.png`).length > 1000);
      if (process.env.KYSO_PORTAL_PDF_PNG) execFileSync('cp', [`${png}.png`, `${process.env.KYSO_PORTAL_PDF_PNG}-${label.replace(/\W+/g, '-')}.png`]);
    });
  }
});
