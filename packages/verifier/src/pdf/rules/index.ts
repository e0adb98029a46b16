/** The modification rules, in the order they run (earlier rules claim objects first). */
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

export const RULES: Rule[] = [signatureDictionaryRule, trailerRule, dssRule, catalogRule, acroFormRule, signatureFieldRule, formFieldRule, appearanceRule, pageRule, structureTreeRule, metadataRule, fallbackRule];
export { RevisionContext, type RevisionPolicy, type JudgedModification, type Rule, LEVELS } from './context.js';
