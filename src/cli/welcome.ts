import { signHmac } from '../auth/signature.ts';
import type { Config } from '../config.ts';
import type { DemoCredentials } from '../demo/demo.ts';
import type { SignInLink } from '../server.ts';
import { describeDuration } from '../sessions/links.ts';

export const LIST_PATH = '/public/api/ver1/accounts';

/** A signed curl for GET /ver1/accounts, ready to paste. */
export function signedCurl(baseUrl: string, apiKey: string, secret: string, query = ''): string {
  const target = query ? `${LIST_PATH}?${query}` : LIST_PATH;
  const signature = signHmac(secret, target);
  return `curl -s '${baseUrl}${target}' -H 'Apikey: ${apiKey}' -H 'Signature: ${signature}'`;
}

export function demoLines(baseUrl: string, demo: DemoCredentials): string[] {
  return [
    `Demo user ${demo.email} (id ${demo.user_id}) with accounts ${demo.account_ids.join(', ')}.`,
    `  API key: ${demo.api_key}`,
    `  Secret:  ${demo.secret}   (shown once; stored sealed)`,
    '',
    'Try it:',
    `  ${signedCurl(baseUrl, demo.api_key, demo.secret)}`,
  ];
}

export function printWelcome(
  url: string,
  demo: DemoCredentials | undefined,
  config: Config,
  worker = true,
  signIn?: SignInLink,
): void {
  const storage = config.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `PGlite in ${config.dataDir}`;
  const lines = [`opencommas listening on ${url} — storage: ${storage}`, ''];
  if (demo) lines.push(...demoLines(url, demo), '');
  if (signIn) lines.push(signInLine(signIn, config.sessions.loginLinkTtlMs), '');
  if (!demo) lines.push('New demo credentials: npm run cli -- demo', '');
  lines.push(
    worker
      ? 'Connect a real exchange or wallet (this process syncs it on schedule):'
      : 'Connect a real exchange or wallet (no worker here: run `opencommas worker`):',
    '  npm run cli -- account add --user ID --market binance --name Main --api-key K --secret-file secret.txt',
    'Manage users, keys and accounts: npm run cli -- --help',
    '',
  );
  process.stdout.write(lines.join('\n'));
}

/** The demo user's way into the dashboard: a one-time link, and how to get another. */
export function signInLine(signIn: SignInLink, ttlMs: number): string {
  return (
    `Open the dashboard: ${signIn.url}  (one-time, valid ${describeDuration(ttlMs)}; ` +
    `new one: npm run cli -- user login-link --user ${signIn.user_id})`
  );
}
