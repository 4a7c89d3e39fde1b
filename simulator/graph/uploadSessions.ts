import { randomBytes } from 'node:crypto';
import { graphError, json, type SimRequest, type SimResponse } from './http';

/** Fragments must be multiples of this (but the last), per Graph's upload-session rules. */
export const FRAGMENT_MULTIPLE = 320 * 1024;
export const MAX_FRAGMENT = 60 * 1024 * 1024;

/** The fragment rules of one kind of upload session. */
export interface FragmentRules {
  /** Every fragment but the last a multiple of this (1: any length). */
  multiple: number;
  maxFragment: number;
  /** The answer to a fragment that is not the last (OneDrive: 202 Accepted; Outlook: 200 OK). */
  partialStatus: number;
  /** nextExpectedRanges' form: OneDrive "start-"; Outlook attachments a single "start". */
  nextRange(start: number): string;
}

/** OneDrive and SharePoint (driveItem createUploadSession): 320 KiB multiples, at most 60 MiB, 202 until the last. */
export const DRIVE_RULES: FragmentRules = { multiple: FRAGMENT_MULTIPLE, maxFragment: MAX_FRAGMENT, partialStatus: 202, nextRange: (start) => `${start}-` };
/**
 * Outlook attachments (attachment createUploadSession, 3 MB to 150 MB): fragments of up to 4 MB in
 * order, 200 with nextExpectedRanges ["<start>"] until the last, which creates the attachment.
 */
export const ATTACHMENT_RULES: FragmentRules = { multiple: 1, maxFragment: 4 * 1024 * 1024, partialStatus: 200, nextRange: (start) => String(start) };

interface Session {
  total?: number;
  received: Buffer[];
  bytes: number;
  expires: number;
  rules: FragmentRules;
  /** Called with the whole content when the last byte arrives: returns the created item's answer. */
  complete(content: Buffer): SimResponse;
}

/**
 * Pre-authenticated upload URLs (`/_upload/<token>`): PUT fragments with Content-Range in order,
 * within the session's rules (OneDrive: each but the last a multiple of 320 KiB and at most 60 MiB;
 * Outlook attachments: at most 4 MB); a fragment out of order or overlapping, or a range past the
 * session's size, answers 416 with nextExpectedRanges; 202 (Outlook: 200) until the last fragment,
 * then the created item's answer (201). A request carrying an Authorization header is refused
 * (401), as Graph may do.
 */
export class UploadSessions {
  private readonly sessions = new Map<string, Session>();
  /** Requests to upload URLs that carried an Authorization header (tests assert none). */
  authorizationHeaders = 0;
  fragments = 0;

  constructor(private readonly origin: () => string) {}

  open(complete: (content: Buffer) => SimResponse, total?: number, rules: FragmentRules = DRIVE_RULES): { uploadUrl: string; expirationDateTime: string; nextExpectedRanges: string[] } {
    const token = randomBytes(18).toString('base64url');
    const expires = Date.now() + 3_600_000;
    this.sessions.set(token, { total, received: [], bytes: 0, expires, rules, complete });
    return { uploadUrl: `${this.origin()}/_upload/${token}?tempauth=${randomBytes(24).toString('base64url')}`, expirationDateTime: new Date(expires).toISOString(), nextExpectedRanges: [rules.nextRange(0)] };
  }

  handle(req: SimRequest): SimResponse {
    const token = req.url.pathname.split('/')[2] ?? '';
    const s = this.sessions.get(token);
    if (req.headers.authorization) {
      this.authorizationHeaders++;
      return graphError(401, 'InvalidAuthenticationToken', 'An Authorization header is not accepted on a pre-authenticated upload URL.');
    }
    if (!s || s.expires < Date.now()) return graphError(404, 'itemNotFound', 'The upload session was not found or has expired.');
    const next = () => [s.rules.nextRange(s.bytes)];
    if (req.method === 'GET') return json(200, { expirationDateTime: new Date(s.expires).toISOString(), nextExpectedRanges: next() });
    if (req.method === 'DELETE') {
      this.sessions.delete(token);
      return { status: 204 };
    }
    if (req.method !== 'PUT') return graphError(405, 'invalidRequest', 'PUT fragments to the upload URL.');
    const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(req.headers['content-range'] ?? '');
    if (!range) return graphError(400, 'invalidRequest', 'A fragment needs Content-Range: bytes <first>-<last>/<total>.');
    const first = Number(range[1]);
    const last = Number(range[2]);
    const total = Number(range[3]);
    const length = last - first + 1;
    const badRange = (message: string): SimResponse => ({ status: 416, headers: { 'Content-Type': 'application/json' }, json: { error: { code: 'invalidRange', message }, nextExpectedRanges: next() } });
    if (s.total !== undefined && s.total !== total) return graphError(400, 'invalidRequest', 'The total size does not match the session.');
    s.total = total;
    if (first !== s.bytes) return badRange('Fragment out of order.');
    if (last < first || last >= total) return badRange('The range is empty or goes past the end of the file.');
    if (length !== req.body.length) return graphError(400, 'invalidRequest', 'Content-Range does not match the body length.');
    if (length > s.rules.maxFragment) return graphError(413, 'requestTooLarge', `A fragment is at most ${s.rules.maxFragment} bytes.`);
    const isLast = last + 1 === total;
    if (!isLast && length % s.rules.multiple !== 0) return graphError(400, 'invalidRequest', 'Every fragment but the last must be a multiple of 320 KiB.');
    this.fragments++;
    s.received.push(Buffer.from(req.body));
    s.bytes += length;
    if (!isLast) return json(s.rules.partialStatus, { expirationDateTime: new Date(s.expires).toISOString(), nextExpectedRanges: next() });
    this.sessions.delete(token);
    return s.complete(Buffer.concat(s.received));
  }
}
