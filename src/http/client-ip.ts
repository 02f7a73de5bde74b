import type { FastifyRequest } from 'fastify';

/**
 * Fastify's `trustProxy` for `OPENCOMMAS_TRUST_PROXY`: the CIDR list of proxies allowed to name
 * the caller in `X-Forwarded-For`, or false (the header is ignored, the peer is the caller).
 */
export function trustProxyOption(trusted: readonly string[] | undefined): string[] | false {
  return trusted !== undefined && trusted.length > 0 ? [...trusted] : false;
}

const MAPPED_IPV4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/**
 * The caller's IP, as whitelists, rate limits and bans see it. With trusted proxies Fastify
 * walks `X-Forwarded-For` from the right past every trusted hop and takes the first address
 * that is not one (proxy-addr); otherwise it is the socket's peer and the header counts for
 * nothing. IPv4 clients of a dual-stack listener (`::ffff:1.2.3.4`) are counted as `1.2.3.4`,
 * so one caller has one counter however it arrives.
 */
export function clientIp(request: FastifyRequest): string {
  // A socket already gone has no address; such a request is answered by no one anyway.
  const ip = request.ip || 'unknown';
  return MAPPED_IPV4.exec(ip)?.[1] ?? ip;
}
