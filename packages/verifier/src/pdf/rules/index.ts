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
import { invalidSyntaxRule } from './invalid-syntax.js';
import { annotationOrderRule } from './annotation-order.js';
import { formAppearanceRule } from './form-appearance.js';

/** The default rule set, in order. A policy may replace it (`AnalyzeOptions.rules`). */
export const RULES: readonly Rule[] = [invalidSyntaxRule, ambiguityRule, signatureDictionaryRule, catalogRule, acroFormRule, formAppearanceRule, signatureFieldRule, formFieldRule, appearanceRule, pageRule, annotationOrderRule, dssRule, structureTreeRule, trailerRule, metadataRule, fallbackRule];
export { RevisionContext, type RevisionPolicy, type JudgedModification, type Rule, LEVELS } from './context.js';
export { invalidSyntaxRule, ambiguityRule, signatureDictionaryRule, catalogRule, acroFormRule, formAppearanceRule, signatureFieldRule, formFieldRule, appearanceRule, pageRule, annotationOrderRule, dssRule, structureTreeRule, trailerRule, metadataRule, fallbackRule };
