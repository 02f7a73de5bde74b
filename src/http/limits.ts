import type { Socket } from 'node:net';
import type { Server } from 'node:http';
import type { FastifyHttpOptions, FastifyInstance } from 'fastify';
import { loadConfig, type HttpConfig } from '../config.ts';

/** What the listener accepts; each field as in `config.http`. */
export type HttpLimits = Pick<
  HttpConfig,
  'bodyLimit' | 'maxHeaderSize' | 'requestTimeoutMs' | 'keepAliveTimeoutMs'
>;

/** The configuration's defaults, so that an app built without limits (tests) still has them. */
export const DEFAULT_HTTP_LIMITS: HttpLimits = loadConfig({}).http;

// Route parameters are ids: anything longer is not one of ours (404 without matching).
const MAX_PARAM_LENGTH = 100;
// A request head is a few hundred bytes; a client still sending it after this is stalling.
const MAX_HEADERS_MS = 10_000;
// Node checks its request and header deadlines on this tick (its default is 30 s, which would
// let a stalled request outlive a short deadline by that much).
const DEADLINE_CHECK_MS = 1000;

/**
 * Fastify/Node options so that slow or huge requests cannot tie the server up: a whole request
 * must arrive within `requestTimeoutMs`, its head within 10 s, idle keep-alive connections are
 * closed after `keepAliveTimeoutMs`, and bodies and heads have a size limit.
 */
export function listenerLimits(limits: HttpLimits): FastifyHttpOptions<Server> {
  return {
    bodyLimit: limits.bodyLimit,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    requestTimeout: limits.requestTimeoutMs,
    // A connection on which nothing moves for this long is dropped (a client that stopped
    // reading its answer); a little after the request deadline, so that a stalled request
    // gets its 408 first.
    connectionTimeout: limits.requestTimeoutMs + 2 * DEADLINE_CHECK_MS,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    http: {
      maxHeaderSize: limits.maxHeaderSize,
      headersTimeout: Math.min(MAX_HEADERS_MS, limits.requestTimeoutMs),
      requestTimeout: limits.requestTimeoutMs,
      connectionsCheckingInterval: DEADLINE_CHECK_MS,
    },
    clientErrorHandler: answerClientError,
  };
}

/**
 * Errors Node raises before a request exists (head too large, too slow, malformed), answered in
 * the 3Commas error shape instead of Fastify's own.
 */
function answerClientError(
  this: FastifyInstance,
  error: NodeJS.ErrnoException,
  socket: Socket,
): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  this.log.info({ code: error.code, remoteAddress: socket.remoteAddress }, 'request refused');
  const [status, reason, description] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', 'Request headers are too large']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'The request took too long to arrive']
        : [400, 'Bad Request', 'Malformed HTTP request'];
  const body = JSON.stringify({ error: 'bad_request', error_description: description });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}
