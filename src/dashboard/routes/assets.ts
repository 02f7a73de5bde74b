import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { fileAsset, textAsset, type Asset } from '../assets.ts';
import { FAVICON_SVG, marketIconSvg } from '../icons.ts';
import { HIDDEN } from './guard.ts';

const favicon = textAsset(FAVICON_SVG, '.svg');
const icons = new Map<string, Asset>();

/** Static files, public (the sign-in page needs them too); revalidated by ETag. */
export function assetRoutes(app: FastifyInstance): void {
  app.get('/assets/favicon.svg', HIDDEN, async (request, reply) => send(request, reply, favicon));

  app.get('/assets/markets/:file', HIDDEN, async (request, reply) => {
    const file = (request.params as { file: string }).file;
    const code = /^([a-z0-9_]{1,40})\.svg$/.exec(file)?.[1];
    if (!code) return reply.callNotFound();
    let icon = icons.get(code);
    if (!icon) {
      icon = textAsset(marketIconSvg(code), '.svg');
      // Bounded: any code gets an icon, but only the first few hundred are kept.
      if (icons.size < 256) icons.set(code, icon);
    }
    return send(request, reply, icon);
  });

  app.get('/assets/:file', HIDDEN, async (request, reply) => {
    const asset = fileAsset((request.params as { file: string }).file);
    if (!asset) return reply.callNotFound();
    return send(request, reply, asset);
  });
}

function send(request: FastifyRequest, reply: FastifyReply, asset: Asset) {
  void reply.header('etag', asset.etag).header('cache-control', 'no-cache');
  if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
  return reply.type(asset.type).send(asset.body);
}
