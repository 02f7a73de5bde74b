import http from 'node:http';
import { signHmac } from '../../src/auth/signature.ts';
import type { Credentials } from './server.ts';

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: { error?: string; error_description?: string } & Record<string, unknown>;
}

/**
 * GET `target` from the loopback address `localAddress` (127.0.0.2, 127.0.0.3 …): the server sees
 * a different caller IP for each, as it would for different machines.
 */
export function getFrom(
  localAddress: string,
  baseUrl: string,
  target: string,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = http.request(`${baseUrl}${target}`, { localAddress, headers, agent: false });
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: text === '' ? {} : (JSON.parse(text) as Answer['body']),
        });
      });
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end();
  });
}

/** A signed GET from `localAddress`, as a 3Commas client on that machine would send it. */
export function signedGetFrom(
  localAddress: string,
  baseUrl: string,
  target: string,
  credentials: Credentials,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return getFrom(localAddress, baseUrl, target, {
    Apikey: credentials.apiKey,
    Signature: signHmac(credentials.secret ?? '', target),
    ...headers,
  });
}
