/** Name and version written into reports. */
export const VALIDATOR = 'kyso-verifier 0.1.0';
