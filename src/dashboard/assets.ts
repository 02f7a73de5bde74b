import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The dashboard's static files: the stylesheet from src/dashboard/assets/, the script that
 * `npm run build` (run by every entry point when sources changed) bundles into dist/assets/.
 * Found from the repository root, since this module itself runs from src/ (tests) or from a
 * bundle chunk in dist/ (everything else).
 */
export interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

const TYPES: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** Every file the dashboard serves from disk, by its URL under /assets/. */
const FILES: Record<string, string> = {
  'dashboard.css': 'src/dashboard/assets/dashboard.css',
  'dashboard.js': 'dist/assets/dashboard.js',
  'dashboard.js.map': 'dist/assets/dashboard.js.map',
};

function repositoryRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (
      existsSync(path.join(dir, 'package.json')) &&
      existsSync(path.join(dir, 'src', 'dashboard'))
    ) {
      return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir)
      throw new Error('opencommas: cannot find the repository root for the dashboard assets');
    dir = parent;
  }
}

const cache = new Map<string, Asset>();
let root: string | undefined;

/** A named asset, read once (they are small and fixed for the process's life); undefined if none. */
export function fileAsset(name: string): Asset | undefined {
  const relative = Object.hasOwn(FILES, name) ? FILES[name] : undefined;
  if (!relative) return undefined;
  const cached = cache.get(name);
  if (cached) return cached;
  root ??= repositoryRoot();
  const file = path.join(root, relative);
  if (!existsSync(file)) return undefined;
  const asset = textAsset(readFileSync(file), path.extname(name));
  cache.set(name, asset);
  return asset;
}

/** An asset made in memory (the SVG icons). */
export function textAsset(body: Buffer | string, extension: string): Asset {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  return {
    body: bytes,
    type: TYPES[extension] ?? 'application/octet-stream',
    etag: `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 22)}"`,
  };
}
