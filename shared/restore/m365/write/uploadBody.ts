/**
 * Upload bodies that reach the socket in small pieces. A Buffer given to fetch is written to the
 * TLS socket in one write: OpenSSL then holds the whole body encrypted in its output buffer until
 * the network has taken it (and undici copies the Buffer first), so every upload in flight costs
 * about three times its size outside the JS heap. Written piece by piece, the socket's backpressure
 * keeps that to a few pieces per upload, and the process-wide budget (slots.ts) holds what it counts.
 */

/** Bytes written to the socket at once (the size of a socket read; a few TLS records). */
export const BODY_PIECE_BYTES = 64 * 1024;

/** The pieces of `parts` (views, no copy), each at most BODY_PIECE_BYTES. */
export function* bodyPieces(parts: readonly Uint8Array[]): Generator<Uint8Array> {
  for (const p of parts) for (let at = 0; at < p.length; at += BODY_PIECE_BYTES) yield p.subarray(at, Math.min(p.length, at + BODY_PIECE_BYTES));
}

/**
 * A body for fetch streamed from `parts` (no copy). It can be sent again (each call to the
 * iterator starts over), so a retried request resends the same bytes. fetch needs `duplex: 'half'`.
 */
export function streamedBody(parts: readonly Uint8Array[]): AsyncIterable<Uint8Array> {
  return {
    async *[Symbol.asyncIterator]() {
      yield* bodyPieces(parts);
    },
  };
}

/**
 * PUTs bytes `offset`..`offset + length - 1` of a `total`-byte upload (`parts` back to back) to a
 * pre-authenticated upload-session URL (OneDrive items, mail attachments): no Authorization header
 * (Graph may answer 401 to one), the body streamed in pieces.
 */
export function putRange(url: string, parts: readonly Uint8Array[], offset: number, total: number): Promise<Response> {
  const length = parts.reduce((n, p) => n + p.length, 0);
  const init = { method: 'PUT', headers: { 'Content-Length': String(length), 'Content-Range': `bytes ${offset}-${offset + length - 1}/${total}` }, body: streamedBody(parts), duplex: 'half' };
  return fetch(url, init as unknown as RequestInit);
}

/**
 * A body for the Graph SDK (which passes a Blob through to fetch unchanged): one copy of `parts`
 * as a Blob of BODY_PIECE_BYTES pieces, which fetch streams one piece per write (a Blob of one part
 * would be one write). Resendable, so the SDK's retries work.
 */
export function blobBody(parts: readonly Uint8Array[], type = 'application/octet-stream'): Blob {
  return new Blob([...bodyPieces(parts)], { type });
}
