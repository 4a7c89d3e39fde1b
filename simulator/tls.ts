import { writeFileSync } from 'node:fs';
import { generate } from 'selfsigned';

export interface LoopbackCertificate {
  cert: string;
  key: string;
}

/**
 * A throwaway self-signed certificate for 127.0.0.1 and localhost, made at start-up. Clients trust
 * it through NODE_EXTRA_CA_CERTS (read once when Node starts), so write it to a file for them.
 */
export async function loopbackCertificate(certFile?: string): Promise<LoopbackCertificate> {
  const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keySize: 2048,
    days: 7,
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }, { type: 2, value: 'localhost' }] },
    ],
  } as Parameters<typeof generate>[1]);
  if (certFile) writeFileSync(certFile, pems.cert);
  return { cert: pems.cert, key: pems.private };
}
