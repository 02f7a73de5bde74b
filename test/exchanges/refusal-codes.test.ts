import { describe, expect, it } from 'vitest';
import { loadExchangeClass } from '../../src/exchanges/ccxt-modules.ts';
import { DEFAULT_BAN_MS, classifyCcxtError } from '../../src/exchanges/failures.ts';

// Each exchange's own refusal, as ccxt's own error mapping turns its answer into an error, then
// as we classify it: only a definite refusal of the key locks an account.

/** What ccxt throws for `body` answered with `status` by `exchangeId`. */
async function ccxtError(exchangeId: string, status: number, body: unknown): Promise<unknown> {
  const Class = await loadExchangeClass(exchangeId);
  const exchange = new Class({});
  const text = JSON.stringify(body);
  const url = 'https://api.example/path';
  try {
    exchange.handleErrors(status, '', url, 'GET', {}, text, body, {}, undefined);
    exchange.handleHttpStatusCode(status, '', url, 'GET', text);
  } catch (error) {
    return error;
  }
  throw new Error(`ccxt accepted ${text}`);
}

describe('refusals of this IP: reported, retried next round, never a lock', () => {
  it.each([
    ['okx', 401, { code: '50110', msg: "Your IP is not included in your API key's IP whitelist." }],
    [
      'bybit',
      200,
      { retCode: 10010, retMsg: 'Unmatched IP, please check your API key bound IP addresses.' },
    ],
    // ccxt: AuthenticationError, like a wrong key; KuCoin sends it for the key's IP whitelist.
    ['kucoin', 403, { code: '400006', msg: 'Invalid request ip' }],
  ])('%s %j', async (exchangeId, status, body) => {
    const failure = classifyCcxtError(await ccxtError(exchangeId, status, body));
    expect(failure.kind).toBe('ip_refused');
  });
});

describe('definite refusals of the key lock it', () => {
  it.each([
    ['okx', 401, { code: '50111', msg: 'Invalid OK-ACCESS-KEY' }],
    ['bybit', 200, { retCode: 10003, retMsg: 'API key is invalid.' }],
    [
      'bybit',
      200,
      { retCode: 10005, retMsg: 'Permission denied, please check your API key permissions.' },
    ],
    // Ambiguous (key, IP or permission), but also Binance's answer for a deleted key: it locks.
    ['binance', 401, { code: -2015, msg: 'Invalid API-key, IP, or permissions for action.' }],
    ['kucoin', 401, { code: '400003', msg: 'KC-API-KEY not exists' }],
    ['kucoin', 401, { code: '400004', msg: 'Invalid KC-API-PASSPHRASE' }],
    ['kucoin', 401, { code: '400005', msg: 'Invalid KC-API-SIGN' }],
    ['kucoin', 403, { code: '400007', msg: 'Access Denied' }],
    ['kraken', 200, { error: ['EAPI:Invalid key'] }],
    // ccxt: a plain ExchangeError; Kraken's answer to a secret that does not sign for the key.
    ['kraken', 200, { error: ['EAPI:Invalid signature'] }],
    ['kraken', 200, { error: ['EGeneral:Permission denied'] }],
  ])('%s %j', async (exchangeId, status, body) => {
    const failure = classifyCcxtError(await ccxtError(exchangeId, status, body));
    expect(failure.kind).toBe('credentials');
  });
});

describe('busy and rate-limit codes: retried, never a lock', () => {
  it.each([
    ['okx', 429, { code: '50011', msg: 'Too Many Requests' }, 'rate_limited'],
    [
      'okx',
      200,
      { code: '50013', msg: 'Systems are busy. Please try again later.' },
      'unavailable',
    ],
    ['bybit', 200, { retCode: 10006, retMsg: 'Too many visits!' }, 'rate_limited'],
    // ccxt: a plain ExchangeError (429000 is not in its table); the 429 status says what it is.
    ['kucoin', 429, { code: '429000', msg: 'Too Many Requests' }, 'rate_limited'],
    ['kraken', 200, { error: ['EAPI:Rate limit exceeded'] }, 'rate_limited'],
    // A clock out of KuCoin's 5 s window, or a Kraken nonce out of order: retried, not the key.
    ['kucoin', 400, { code: '400002', msg: 'Invalid KC-API-TIMESTAMP' }, 'unavailable'],
    ['kraken', 200, { error: ['EAPI:Invalid nonce'] }, 'unavailable'],
  ])('%s %j', async (exchangeId, status, body, kind) => {
    const failure = classifyCcxtError(await ccxtError(exchangeId, status, body), undefined, status);
    expect(failure.kind).toBe(kind);
    expect(failure.banned).toBe(false);
  });
});

describe('bans: the whole exchange pauses', () => {
  it('Binance -1003 "banned until": until that time, without Retry-After', async () => {
    const now = Date.now();
    const until = now + 3_600_000;
    const error = await ccxtError('binance', 418, {
      code: -1003,
      msg: `Way too much request weight used; IP banned until ${until}. Please use WebSocket Streams for live updates to avoid bans.`,
    });
    const failure = classifyCcxtError(error, undefined, 418, now);
    expect(failure).toMatchObject({ kind: 'rate_limited', banned: true, retryAfterMs: 3_600_000 });
  });

  it('a 418 is a ban whatever its body says: Retry-After, or the shortest ban without it', async () => {
    const error = await ccxtError('binance', 418, { code: -1003, msg: 'IP banned.' });
    expect(classifyCcxtError(error, 30_000, 418)).toMatchObject({
      kind: 'rate_limited',
      banned: true,
      retryAfterMs: 30_000,
    });
    expect(classifyCcxtError(error, undefined, 418).retryAfterMs).toBe(DEFAULT_BAN_MS);
  });

  it('Bybit 403 "access too frequent" (a bare text page): a 10-minute ban, not a key refusal', async () => {
    const error = await ccxtError('bybit', 403, 'access too frequent');
    expect(classifyCcxtError(error, undefined, 403)).toMatchObject({
      kind: 'rate_limited',
      banned: true,
      retryAfterMs: 10 * 60 * 1000,
    });
    // Another exchange's 403 is no ban of ours to assume.
    const other = await ccxtError('okx', 403, 'access too frequent');
    expect(classifyCcxtError(other, undefined, 403).banned).toBe(false);
  });

  it('a 429 is no ban: only its own Retry-After holds the exchange back', async () => {
    const error = await ccxtError('binance', 429, { code: -1003, msg: 'Too many requests.' });
    expect(classifyCcxtError(error, 2000, 429)).toMatchObject({
      kind: 'rate_limited',
      banned: false,
      retryAfterMs: 2000,
    });
  });
});
