/** Placeholder until the PKI module lands. */
export const PKI_VERSION = '0.1.0';
