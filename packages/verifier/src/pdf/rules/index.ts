/**
 * The modification rules, in the order they run (earlier rules claim objects first). Rules that judge what
 * a page shows (fields, appearances, pages) run before the permissive ones (DSS, structure tree, trailer,
 * metadata), so that an object used for rendering can never be claimed as an allowed LTA/metadata change.
 */
import type { Rule } from './context.js';
import { signatureDictionaryRule } from './signature-dictionary.js';
import { dssRule } from './dss.js';
import { metadataRule } from './metadata.js';
import { catalogRule } from './catalog.js';
import { acroFormRule } from './acroform.js';
import { signatureFieldRule } from './signature-fields.js';
import { formFieldRule } from './form-fields.js';
import { appearanceRule } from './appearance.js';
import { pageRule } from './pages.js';
import { fallbackRule } from './fallback.js';
import { trailerRule } from './trailer.js';
import { structureTreeRule } from './structure.js';
import { ambiguityRule } from './ambiguity.js';

export const RULES: Rule[] = [ambiguityRule, signatureDictionaryRule, catalogRule, acroFormRule, signatureFieldRule, formFieldRule, appearanceRule, pageRule, dssRule, structureTreeRule, trailerRule, metadataRule, fallbackRule];
export { RevisionContext, type RevisionPolicy, type JudgedModification, type Rule, LEVELS } from './context.js';
