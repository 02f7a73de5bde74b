import { request } from 'node:http';
import { connect as connectSocket } from 'node:net';

export interface AdminAnswer {
  status: number;
  body: unknown;
}

/**
 * POST /admin/v1/<operation> over the server's admin socket. `fetch` cannot reach a Unix
 * socket; node:http can. The body may be large (a whole import file): it is sent as it is,
 * and the server has no deadline for it.
 */
export function postAdmin(
  socketPath: string,
  /** `Bearer <admin token>`; absent only to show that the server refuses such a call. */
  authorization: string | undefined,
  operation: string,
  body: string,
): Promise<AdminAnswer> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      {
        socketPath,
        // One connection per operation, closed after it: nothing lingers in a keep-alive pool.
        agent: false,
        method: 'POST',
        path: `/admin/v1/${operation}`,
        headers: {
          ...(authorization === undefined ? {} : { authorization }),
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('error', reject);
        response.on('end', () => {
          try {
            resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) as unknown });
          } catch {
            reject(new Error(`the server answered ${String(response.statusCode)} without JSON`));
          }
        });
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

/** Whether something accepts connections on this socket now (a server up, not stopping). */
export function socketAnswers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connectSocket(socketPath);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
