// Is a configured secret (JWT_SECRET, an admin API key, a webhook signing key)
// obviously not random? Not a proof of randomness, which no check can give:
// it refuses what a person typed or copied instead of generating, so that
// live mode never runs on "changeme-changeme-…", a value from the README, or
// the development default.

/** How to make one, in every refusal. */
export const HOW_TO_MAKE_A_SECRET = 'make one with `openssl rand -base64 48`';

/**
 * Values this repository publishes (README, .env.example, the development
 * defaults): anyone can read them. test/unit/secret-strength.test.ts checks
 * that every secret-looking value in README.md and .env.example is here.
 */
const PUBLISHED = new Set([
  'dev-only-insecure-jwt-secret-do-not-use-in-production',
  'my-long-operator-key-0123456789abcdef',
  'SK_TEST_dpot_sandbox_secret_key',
]);

// The smallest alphabet a value's characters fit in, and its size: the most
// entropy per character a value drawn from it can carry.
const ALPHABETS: [RegExp, number][] = [
  [/^[0-9]+$/, 10],
  [/^[0-9a-f]+$/, 16],
  [/^[0-9A-F]+$/, 16],
  [/^[a-z]+$/, 26],
  [/^[A-Z]+$/, 26],
  [/^[0-9a-z]+$/, 36],
  [/^[0-9A-Z]+$/, 36],
  [/^[0-9A-Za-z]+$/, 62],
  [/^[0-9A-Za-z+/=_-]+$/, 64],
];

const MIN_BITS = 128;

function alphabetSize(value: string): number {
  return ALPHABETS.find(([pattern]) => pattern.test(value))?.[1] ?? 95;
}

/** "abcabcabc…": the value is a shorter pattern repeated (a prefix of it may end it). */
function isPeriodic(value: string): boolean {
  for (let period = 1; period <= value.length / 2; period++) {
    let repeats = true;
    for (let i = period; i < value.length && repeats; i++) repeats = value[i] === value[i - period];
    if (repeats) return true;
  }
  return false;
}

/**
 * "a-real-production-secret", "admin-key-0123456789abcdef": more than half of
 * the value is lowercase words (three letters or more, between non-letters)
 * or runs of three or more consecutive characters (abc, 321).
 */
function isMostlyWordsAndRuns(value: string): boolean {
  const predictable = new Array<boolean>(value.length).fill(false);
  for (const word of value.matchAll(/(?<![A-Za-z0-9])[a-z]{3,}(?![A-Za-z0-9])/g)) predictable.fill(true, word.index, word.index + word[0].length);
  for (let start = 0; start < value.length; ) {
    const step = value.charCodeAt(start + 1) - value.charCodeAt(start);
    let end = start + 1;
    if (step === 1 || step === -1) while (end < value.length && value.charCodeAt(end) - value.charCodeAt(end - 1) === step) end++;
    if (end - start >= 3) predictable.fill(true, start, end);
    start = end;
  }
  return predictable.filter(Boolean).length > value.length / 2;
}

/** Why `value` is not acceptable as a secret of at least `minLength` characters, or undefined when it is. */
export function weakSecretReason(value: string, minLength = 32): string | undefined {
  if (PUBLISHED.has(value)) return 'is a value published in this repository (README, .env.example or a development default)';
  if (value.length < minLength) return `is shorter than ${minLength} characters`;
  const distinct = new Set(value).size;
  if (distinct === 1) return 'is one character repeated';
  if (distinct < 8) return `uses only ${distinct} different characters`;
  if (isPeriodic(value)) return 'repeats a shorter pattern';
  if (isMostlyWordsAndRuns(value)) return 'is mostly words or runs of consecutive characters (abc, 123), not random characters';
  const bits = Math.floor(value.length * Math.log2(alphabetSize(value)));
  if (bits < MIN_BITS) return `can hold at most ${bits} bits of randomness in its alphabet (at least ${MIN_BITS} are needed)`;
  return undefined;
}

/** The same for key bytes (a webhook secret's decoded key). */
export function weakKeyBytesReason(key: Buffer): string | undefined {
  const distinct = new Set(key).size;
  if (distinct === 1) return 'its key is one byte repeated';
  if (distinct < 8) return `its key uses only ${distinct} different byte values`;
  if (isPeriodic(key.toString('latin1'))) return 'its key repeats a shorter pattern';
  return undefined;
}
