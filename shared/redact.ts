/**
 * One redactor for every edge where text leaves the process (HTTP error bodies, the CLI's error
 * printer, function logs, BackupError messages built from SDK errors). It removes what looks like a
 * secret; callers add the exact secrets they hold (a password, a client secret) so those go too.
 */
const MASK = '***';

/** key=value / "key": "value" pairs whose value is a secret, in connection strings, URLs, form bodies and JSON. */
const SECRET_KEYS = [
  'AccountKey',
  'SharedAccessKey',
  'SharedAccessSignature',
  'sig',
  'client_secret',
  'clientSecret',
  'client_assertion',
  'assertion',
  'access_token',
  'refresh_token',
  'id_token',
  'password',
  'oldPassword',
  'newPassword',
  'secret',
].join('|');

const PATTERNS: [RegExp, string][] = [
  // PEM private keys, whole or cut off.
  [/-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----[\s\S]*?(?:-----END \1PRIVATE KEY-----|$)/g, `-----BEGIN $1PRIVATE KEY-----${MASK}-----END $1PRIVATE KEY-----`],
  // JSON members: "client_secret": "…"
  [new RegExp(`("(?:${SECRET_KEYS})"\\s*:\\s*")((?:[^"\\\\]|\\\\.)*)(")`, 'gi'), `$1${MASK}$3`],
  // key=value in connection strings, query strings and form bodies (value ends at ; & whitespace or a quote).
  [new RegExp(`\\b(${SECRET_KEYS})=([^;&\\s"'<>,]+)`, 'gi'), `$1=${MASK}`],
  // Authorization header values (a credential is long: "Basic settings" stays as it is).
  [/\b([Bb]earer|Basic|SharedKey|SharedKeyLite)\s+[A-Za-z0-9\-._~+/:]{12,}=*/g, `$1 ${MASK}`],
  // Anything shaped like a JWT (header.payload[.signature], base64url, header starting {" = eyJ).
  [/\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}(?:\.[A-Za-z0-9_-]*)?/g, MASK],
];

/** `text` with secret-looking values and each of `secrets` (non-empty ones) replaced by ***. */
export function redactSecrets(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join(MASK);
  for (const [re, replacement] of PATTERNS) out = out.replace(re, replacement);
  return out;
}

/** An error (or anything thrown) as one redacted line of text, for logs. */
export function redactedError(e: unknown, secrets: readonly (string | undefined)[] = []): string {
  const text = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return redactSecrets(text, secrets);
}

/**
 * Wraps a handler (e.g. a Durable activity) so whatever it throws leaves redacted: the Functions
 * runtime logs a thrown error's message and stack and Durable stores them in history.
 */
export function redactingErrors<A extends unknown[], R>(fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args: A) => {
    try {
      return await fn(...args);
    } catch (e) {
      if (!(e instanceof Error)) throw new Error(redactSecrets(String(e)));
      const message = redactSecrets(e.message);
      const stack = e.stack === undefined ? undefined : redactSecrets(e.stack);
      if (message !== e.message || stack !== e.stack) {
        try {
          Object.defineProperty(e, 'message', { value: message, configurable: true, writable: true });
          Object.defineProperty(e, 'stack', { value: stack, configurable: true, writable: true });
        } catch {
          throw Object.assign(new Error(message), { name: e.name, stack });
        }
      }
      throw e;
    }
  };
}
