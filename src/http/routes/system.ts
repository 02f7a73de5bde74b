import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';

/** 3Commas' NONE-security liveness endpoints, which clients call to check connectivity. */
export const systemRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/ver1/ping',
    { schema: { response: { 200: Type.Object({ pong: Type.String() }) } } },
    async () => ({
      pong: 'pong',
    }),
  );
  app.get(
    '/ver1/time',
    { schema: { response: { 200: Type.Object({ server_time: Type.Integer() }) } } },
    async () => ({ server_time: Math.floor(Date.now() / 1000) }),
  );
};
