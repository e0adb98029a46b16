// Review 15 (F1, F2): canonicalization linear in namespace declarations, pathOf linear in siblings.
// A differential test against the previous canonicalizer (xades-c14n-oracle.ts, quadratic but known-good: it passed
// the xmlsec1 interop and corpus tests) on randomized namespace-heavy documents, for every method, PrefixLists,
// document subsets and the streaming C14nDocumentStream; and the attack shapes, which must finish quickly.
import assert from 'node:assert/strict';
import { C14N } from '../src/xades/core/constants.js';
import { C14nDocumentStream, C14N_APEX_WORK_BUDGET, C14N_MAX_INCLUSIVE_PREFIXES, c14nMethod, canonicalize, type C14nOptions } from '../src/xades/core/c14n.js';
import { descendants, pathOf } from '../src/xades/core/dom.js';
import { XmlError } from '../src/xades/core/errors.js';
import { fastScanXml } from '../src/xades/core/fastparse.js';
import type { XmlDocument, XmlElement, XmlNode } from '../src/xades/core/model.js';
import { parseXml } from '../src/xades/core/parse.js';
import * as oracle from './xades-c14n-oracle.js';

const METHODS = [C14N.c14n10, C14N.c14n10Comments, C14N.c14n11, C14N.c14n11Comments, C14N.exc, C14N.excComments];
const LIMITS = { maxDepth: 256, maxElements: 5_000_000, maxAttributes: 1_000_000, maxNamespaceDeclarations: 1_000_000 };
/** The canonicalizer must be linear whatever the parser lets through: the attack shapes are parsed with raised limits. */
const BIG = { maxAttributes: 1_000_000, maxNamespaceDeclarations: 1_000_000 };

/** Small deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PREFIXES = ['', 'a', 'b', 'c', 'ds', 'p1', 'p2', 'xml'];
const URIS = ['urn:a', 'urn:b', 'urn:x', 'http://www.w3.org/2000/09/xmldsig#', 'urn:q&amp;&quot;r'];
const XML_NS = 'http://www.w3.org/XML/1998/namespace';

/** A random well-formed document heavy in namespace declarations, redeclarations and undeclarations. */
function randomDoc(rnd: () => number): string {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
  let elements = 0;
  const el = (scope: Map<string, string>, depth: number): string => {
    elements++;
    const here = new Map(scope);
    const attrs: string[] = [];
    const declared = new Set<string>();
    const nDecl = rnd() < 0.5 ? Math.floor(rnd() * 4) : 0;
    for (let i = 0; i < nDecl; i++) {
      const p = pick(PREFIXES);
      if (declared.has(p)) continue;
      declared.add(p);
      if (p === 'xml') { attrs.push(`xmlns:xml="${XML_NS}"`); continue; }
      // the default namespace may be undeclared (xmlns=""); prefixes may be redeclared with the same or another URI
      const u = p === '' && rnd() < 0.3 ? '' : rnd() < 0.3 && here.has(p) ? here.get(p)! : pick(URIS);
      here.set(p, u);
      attrs.push(p === '' ? `xmlns="${u}"` : `xmlns:${p}="${u}"`);
    }
    const usable = [...here.keys()].filter((p) => p !== '' && p !== 'xml' && here.get(p) !== '');
    const prefix = usable.length && rnd() < 0.5 ? pick(usable) : '';
    const name = (prefix ? prefix + ':' : '') + pick(['e', 'f', 'Signature', 'g']);
    const nAttr = Math.floor(rnd() * 4);
    const usedExpanded = new Set<string>();
    for (let i = 0; i < nAttr; i++) {
      const r = rnd();
      const ln = `at${i}`;
      if (r < 0.3 && usable.length) {
        const p = pick(usable);
        const key = here.get(p)! + ' ' + ln;
        if (usedExpanded.has(key)) continue;
        usedExpanded.add(key);
        attrs.push(`${p}:${ln}="v${i}"`);
      } else if (r < 0.45) {
        const x = pick(['lang', 'space', 'id', 'base', 'foo']);
        if (usedExpanded.has(XML_NS + ' ' + x)) continue;
        usedExpanded.add(XML_NS + ' ' + x);
        attrs.push(`xml:${x}="${x === 'space' ? 'preserve' : x + i}"`);
      } else attrs.push(`${ln}="${pick(['x', 'a&amp;b', '&lt;&quot;', 'tab&#9;nl&#10;cr&#13;', ' spaced  '])}"`);
    }
    // shuffle attribute order (canonical order must not depend on it)
    for (let i = attrs.length - 1; i > 0; i--) { const j = Math.floor(rnd() * (i + 1)); [attrs[i], attrs[j]] = [attrs[j]!, attrs[i]!]; }
    let body = '';
    const nChildren = depth > 5 || elements > 80 ? 0 : Math.floor(rnd() * 5);
    for (let i = 0; i < nChildren; i++) {
      const r = rnd();
      if (r < 0.55) body += el(here, depth + 1);
      else if (r < 0.7) body += pick(['text', ' a &amp; b &lt; c &gt; ', '&#13;cr', '\n  ']);
      else if (r < 0.8) body += '<!-- comment -->';
      else if (r < 0.9) body += pick(['<?pi data?>', '<?pi?>']);
      else body += '<![CDATA[ <cdata> & ]]>';
    }
    return `<${name}${attrs.map((a) => ' ' + a).join('')}>${body}</${name}>`;
  };
  const pre = rnd() < 0.3 ? '<!-- before --><?top x?>' : '';
  const post = rnd() < 0.3 ? '<!-- after -->' : '';
  return pre + el(new Map(), 0) + post;
}

function randomPrefixList(rnd: () => number): string[] | undefined {
  if (rnd() < 0.4) return undefined;
  const out: string[] = [];
  for (const p of ['#default', 'a', 'b', 'c', 'ds', 'p1', 'p2', 'zz']) if (rnd() < 0.35) out.push(p);
  return out;
}

function streamed(impl: typeof C14nDocumentStream | typeof oracle.C14nDocumentStream, text: string, uri: string, incl: string[] | undefined): string | undefined {
  let s = '';
  const h = new impl(c14nMethod(uri)!, (c) => { s += c; }, incl);
  if (!fastScanXml(text, LIMITS, h)) return undefined;
  h.end();
  return s;
}

/** The previous pathOf, the oracle of the new one. */
function naivePathOf(el: XmlElement): string {
  const parts: string[] = [];
  for (let n: XmlNode | null = el; n && n.nodeType === 1; n = n.parentNode) {
    const e = n as XmlElement;
    let i = 1;
    for (let s = e.previousSibling; s; s = s.previousSibling) if (s.nodeType === 1 && (s as XmlElement).tagName === e.tagName) i++;
    parts.unshift(`${e.tagName}[${i}]`);
  }
  return '/' + parts.join('/');
}

/** CPU time of `fn` (ms, this process's threads): the work done, whatever else the machine runs. */
function timedMs(fn: () => void): number {
  const c = process.cpuUsage();
  fn();
  const d = process.cpuUsage(c);
  return (d.user + d.system) / 1000;
}

describe('canonicalization: same output as before review 15 (differential, randomized namespace-heavy documents)', function () {
  this.timeout(120_000);

  it('400 random documents x 6 methods: whole document, element apexes, excluded subtrees, PrefixLists', () => {
    const rnd = prng(0x15c14);
    let compared = 0;
    for (let d = 0; d < 400; d++) {
      const text = randomDoc(rnd);
      const doc = parseXml(text);
      const els = [...descendants(doc)];
      for (const uri of METHODS) {
        const m = c14nMethod(uri)!;
        const variants: [XmlDocument | XmlElement, C14nOptions][] = [];
        const incl = m.exclusive ? randomPrefixList(rnd) : undefined;
        variants.push([doc, incl ? { inclusivePrefixes: incl } : {}]);
        for (let k = 0; k < 3; k++) {
          const apex = els[Math.floor(rnd() * els.length)]!;
          const opts: C14nOptions = {};
          if (incl) opts.inclusivePrefixes = incl;
          if (rnd() < 0.3) opts.comments = false;
          const under = [...descendants(apex)];
          if (under.length && rnd() < 0.5) {
            const a = under[Math.floor(rnd() * under.length)]!, b = under[Math.floor(rnd() * under.length)]!;
            opts.exclude = rnd() < 0.5 ? a : new Set<XmlNode>([a, b]);
          }
          variants.push([apex, opts]);
        }
        for (const [node, opts] of variants) {
          const want = oracle.canonicalize(node, oracle.c14nMethod(uri)!, opts);
          assert.equal(canonicalize(node, m, opts), want, `document ${d}, ${uri}, ${JSON.stringify(opts.inclusivePrefixes)}:\n${text}`);
          let chunks = '';
          canonicalize(node, m, opts, (c) => { chunks += c; });
          assert.equal(chunks, want);
          compared++;
        }
      }
    }
    assert.equal(compared, 400 * 6 * 4);
  });

  it('the streaming C14nDocumentStream gives the old stream output and canonicalize() output (300 documents)', () => {
    const rnd = prng(0xfa57);
    let scanned = 0;
    for (let d = 0; d < 300; d++) {
      const text = randomDoc(rnd);
      for (const uri of [C14N.c14n10, C14N.c14n11, C14N.exc]) {
        const incl = uri === C14N.exc ? randomPrefixList(rnd) : undefined;
        const got = streamed(C14nDocumentStream, text, uri, incl);
        const old = streamed(oracle.C14nDocumentStream, text, uri, incl);
        assert.equal(got, old, `document ${d}, ${uri}:\n${text}`);
        if (got === undefined) continue;
        scanned++;
        assert.equal(got, canonicalize(parseXml(text), c14nMethod(uri)!, incl ? { inclusivePrefixes: incl } : {}));
      }
    }
    // the fast scanner leaves many of these documents (CDATA, xml:* attributes, ...) to the strict parser; enough remain
    assert.ok(scanned > 150, `only ${scanned} streamed`);
  });

  it('pathOf gives the same paths as counting siblings, also after the tree grows', () => {
    const rnd = prng(7);
    for (let d = 0; d < 50; d++) {
      const kids = Array.from({ length: 50 + Math.floor(rnd() * 300) }, () => (rnd() < 0.5 ? '<a/>' : rnd() < 0.5 ? '<b><a/><a/></b>' : 'text<!--c-->'));
      const doc = parseXml(`<r><x/>${kids.join('')}<x><a/></x></r>`);
      const els = [...descendants(doc)];
      for (const e of els) assert.equal(pathOf(e), naivePathOf(e));
    }
    const doc = parseXml('<r>' + '<a/>'.repeat(200) + '</r>');
    const root = doc.documentElement!;
    const last = root.lastChild as XmlElement;
    assert.equal(pathOf(last), '/r[1]/a[200]');
    const extra = parseXml('<a/>').documentElement!;
    root.append(extra);
    assert.equal(pathOf(extra), '/r[1]/a[201]');
    assert.equal(pathOf(last), '/r[1]/a[200]');
  });
});

describe('canonicalization and pathOf: the review 15 attack shapes finish quickly', function () {
  this.timeout(120_000);

  it('inclusive C14N, 2,000 namespaces in scope and 4,000 children declaring one more each (~40 s before): < 2 s, same output as a small-case oracle', () => {
    const decl = Array.from({ length: 2000 }, (_, i) => `xmlns:p${i}="urn:${i}"`).join(' ');
    const text = `<doc xmlns="urn:x"><l0 ${decl}>${'<c xmlns:q="urn:q"/>'.repeat(4000)}</l0></doc>`;
    const doc = parseXml(text, BIG);
    for (const uri of [C14N.c14n10, C14N.c14n11]) {
      let out = '';
      const ms = timedMs(() => { out = canonicalize(doc, c14nMethod(uri)!); });
      assert.ok(ms < 2000, `${uri}: ${ms} ms`);
      assert.equal(out.split('<c xmlns:q="urn:q"></c>').length, 4001);
      let s = '';
      const ms2 = timedMs(() => {
        const h = new C14nDocumentStream(c14nMethod(uri)!, (c) => { s += c; });
        assert.ok(fastScanXml(text, LIMITS, h));
        h.end();
      });
      assert.ok(ms2 < 2000, `stream ${uri}: ${ms2} ms`);
      assert.equal(s, out);
    }
    // the same shape, small enough for the old code: identical output
    const small = parseXml(`<doc xmlns="urn:x"><l0 ${Array.from({ length: 60 }, (_, i) => `xmlns:p${i}="urn:${i}"`).join(' ')}>${'<c xmlns:q="urn:q"/>'.repeat(50)}</l0></doc>`);
    assert.equal(canonicalize(small, c14nMethod(C14N.c14n10)!), oracle.canonicalize(small, oracle.c14nMethod(C14N.c14n10)!));
  });

  it('exclusive C14N, 3,000 namespaces in scope, 4,000 elements, a 5,000-prefix PrefixList (over a minute before): < 2 s', () => {
    const text = '<doc xmlns="urn:x" ' + Array.from({ length: 3000 }, (_, i) => `xmlns:p${i}="urn:${i}"`).join(' ') + '>' + '<e/>'.repeat(2000) + '<p7:e p9:a="1"/>'.repeat(2000) + '</doc>';
    const prefixList = Array.from({ length: 5000 }, (_, i) => `p${i}`).concat('#default');
    const doc = parseXml(text, BIG);
    let out = '';
    const ms = timedMs(() => { out = canonicalize(doc, c14nMethod(C14N.exc)!, { inclusivePrefixes: prefixList }); });
    assert.ok(ms < 2000, `${ms} ms`);
    // every listed prefix in scope is rendered once, on the root; nothing below it
    assert.equal(out.split(' xmlns:').length - 1, 3000);
    assert.ok(out.endsWith('<e></e>'.repeat(2000) + '<p7:e p9:a="1"></p7:e>'.repeat(2000) + '</doc>'));
    let s = '';
    const ms2 = timedMs(() => {
      const h = new C14nDocumentStream(c14nMethod(C14N.exc)!, (c) => { s += c; }, prefixList);
      assert.ok(fastScanXml(text, LIMITS, h));
      h.end();
    });
    assert.ok(ms2 < 2000, `stream: ${ms2} ms`);
    assert.equal(s, out);
  });

  it(`a PrefixList of more than ${C14N_MAX_INCLUSIVE_PREFIXES} entries is an XmlError XML_TOO_LARGE`, () => {
    const doc = parseXml('<r/>');
    const list = Array.from({ length: C14N_MAX_INCLUSIVE_PREFIXES + 1 }, (_, i) => `p${i}`);
    assert.throws(() => canonicalize(doc, c14nMethod(C14N.exc)!, { inclusivePrefixes: list }), (e) => e instanceof XmlError && e.code === 'XML_TOO_LARGE');
    assert.throws(() => new C14nDocumentStream(c14nMethod(C14N.exc)!, () => {}, list), (e) => e instanceof XmlError && e.code === 'XML_TOO_LARGE');
  });

  it(`apex work budget (${C14N_APEX_WORK_BUDGET} units per document): canonicalizing thousands of elements under 9,000 declarations ends in XML_TOO_LARGE within 2 s`, () => {
    const decl = Array.from({ length: 9000 }, (_, i) => `xmlns:p${i}="urn:${i}"`).join(' ');
    const doc = parseXml(`<doc ${decl}>${'<e><f/></e>'.repeat(5000)}</doc>`, BIG);
    const targets = [...descendants(doc)].filter((e) => e.tagName === 'f');
    for (const uri of [C14N.c14n10, C14N.exc]) {
      const d2 = parseXml(`<doc ${decl}>${'<e><f/></e>'.repeat(5000)}</doc>`, BIG);
      const t2 = [...descendants(d2)].filter((e) => e.tagName === 'f');
      let err: unknown;
      let done = 0;
      const ms = timedMs(() => {
        try { for (const t of t2) { canonicalize(t, c14nMethod(uri)!, { inclusivePrefixes: ['p1'] }); done++; } } catch (e) { err = e; }
      });
      assert.ok(err instanceof XmlError && err.code === 'XML_TOO_LARGE', String(err));
      assert.match((err as Error).message, /work budget/);
      assert.ok(done > 50 && done < t2.length, `${done}`);
      assert.ok(ms < 2000, `${uri}: ${ms} ms`);
    }
    // a legitimate use of the same document is far below the budget
    assert.equal(canonicalize(targets[0]!, c14nMethod(C14N.exc)!), '<f></f>');
  });

  it('pathOf on 990 elements after 1,000,000 siblings, three times each (18 s before): < 2 s', () => {
    const doc = parseXml('<doc>' + '<e/>'.repeat(1_000_000) + Array.from({ length: 990 }, (_, i) => `<e Id="i${i}"/>`).join('') + '</doc>');
    const last: XmlElement[] = [];
    for (let n = doc.documentElement!.lastChild; n && last.length < 990; n = n.previousSibling) last.push(n as XmlElement);
    const paths: string[] = [];
    const ms = timedMs(() => { for (const e of last) for (let k = 0; k < 3; k++) paths.push(pathOf(e)); });
    assert.ok(ms < 2000, `${ms} ms`);
    assert.equal(paths[0], '/doc[1]/e[1000990]');
    assert.equal(paths[paths.length - 1], '/doc[1]/e[1000001]');
  });

  it('fuzz-ish: random namespace-heavy documents scaled up (thousands of declarations, PrefixLists) stay under 2 s each', () => {
    const rnd = prng(99);
    for (let d = 0; d < 5; d++) {
      const nDecl = 1000 + Math.floor(rnd() * 4000);
      const prefixes = Array.from({ length: nDecl }, (_, i) => `n${i}`);
      const pick = () => prefixes[Math.floor(rnd() * nDecl)]!;
      const parts: string[] = [];
      for (let i = 0; i < 3000; i++) {
        const r = rnd();
        if (r < 0.3) parts.push(`<${pick()}:e xmlns:${pick()}="urn:${Math.floor(rnd() * 3)}"/>`);
        else if (r < 0.6) parts.push(`<e xmlns="urn:${Math.floor(rnd() * 3)}"><${pick()}:f ${pick()}:a="1"/></e>`);
        else parts.push('<g xmlns=""><h/></g>');
      }
      // every element and attribute prefix used must be declared: declare them all on the root
      const text = `<doc xmlns="urn:d" ${prefixes.map((p, i) => `xmlns:${p}="urn:${i % 7}"`).join(' ')}>${parts.join('')}</doc>`;
      const doc = parseXml(text, BIG);
      const list = rnd() < 0.5 ? prefixes.slice(0, 2000) : ['#default', ...prefixes.slice(0, 50)];
      for (const uri of METHODS) {
        const ms = timedMs(() => canonicalize(doc, c14nMethod(uri)!, { inclusivePrefixes: list }));
        assert.ok(ms < 2000, `${uri}: ${ms} ms`);
      }
    }
  });
});
