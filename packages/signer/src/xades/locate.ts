import type { XmlDocument as Document, XmlElement as Element } from './core/model.js';
import { forEachElement } from './core/dom.js';
import { XmlError } from './core/errors.js';

/** Where the end of an element is in the source text. */
export interface EndTagPosition {
  /** Offset of the "</" of its end tag, or of the "/>" of an empty-element tag. */
  offset: number;
  selfClosing: boolean;
}

/**
 * Find the end tag of `el` in `text` (the text `doc` was parsed from) by a lexical walk that skips comments,
 * CDATA sections, processing instructions and quoted attribute values, counting start tags in document order.
 * Lets the signer insert a signature without re-serializing (so the original bytes stay untouched).
 */
export function locateEndTag(text: string, doc: Document, el: Element): EndTagPosition {
  let ordinal = -1;
  let k = 0;
  forEachElement(doc, (e) => { if (e === el) { ordinal = k; return true; } k++; return false; });
  if (ordinal < 0) throw new XmlError('XML_INPUT', 'element not in document');
  const stack: number[] = [];
  let count = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const lt = text.indexOf('<', i);
    if (lt < 0) break;
    if (text.startsWith('<!--', lt)) { i = text.indexOf('-->', lt + 4) + 3; continue; }
    if (text.startsWith('<![CDATA[', lt)) { i = text.indexOf(']]>', lt + 9) + 3; continue; }
    if (text.startsWith('<?', lt)) { i = text.indexOf('?>', lt + 2) + 2; continue; }
    if (text.startsWith('</', lt)) {
      const idx = stack.pop();
      if (idx === ordinal) return { offset: lt, selfClosing: false };
      i = text.indexOf('>', lt) + 1;
      continue;
    }
    let j = lt + 1, q = 0;
    for (; j < n; j++) {
      const ch = text.charCodeAt(j);
      if (q) { if (ch === q) q = 0; continue; }
      if (ch === 0x22 || ch === 0x27) { q = ch; continue; }
      if (ch === 0x3e) break;
    }
    const idx = count++;
    if (text.charCodeAt(j - 1) === 0x2f) {
      if (idx === ordinal) return { offset: j - 1, selfClosing: true };
    } else stack.push(idx);
    i = j + 1;
  }
  throw new XmlError('XML_INPUT', 'end tag of the signature parent not found');
}
