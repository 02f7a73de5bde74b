/**
 * Market icons drawn here: a monogram on the market's colour. 3Commas' `market_icon` URLs point
 * at its CDN, and the dashboard loads nothing from another host; exchanges' logos are theirs.
 */
const MARKS: Record<string, { letters: string; colour: string; ink: string }> = {
  binance: { letters: 'B', colour: '#F0B90B', ink: '#1E2026' },
  binance_us: { letters: 'BU', colour: '#F3BA2F', ink: '#1E2026' },
  bitcoinwallet: { letters: '₿', colour: '#F7931A', ink: '#FFFFFF' },
  bitfinex: { letters: 'Bf', colour: '#16B157', ink: '#FFFFFF' },
  bybit_spot: { letters: 'By', colour: '#17181E', ink: '#F7A600' },
  coinbase: { letters: 'C', colour: '#0052FF', ink: '#FFFFFF' },
  ethereumwallet: { letters: 'Ξ', colour: '#627EEA', ink: '#FFFFFF' },
  gate_io: { letters: 'G', colour: '#2354E6', ink: '#FFFFFF' },
  kraken: { letters: 'K', colour: '#5741D9', ink: '#FFFFFF' },
  kucoin: { letters: 'Ku', colour: '#23AF91', ink: '#FFFFFF' },
  okex: { letters: 'OK', colour: '#000000', ink: '#FFFFFF' },
};

const FALLBACK = { colour: '#6B7280', ink: '#FFFFFF' };

/** The SVG of a market's icon (any code: unknown ones get their initial on grey). */
export function marketIconSvg(marketCode: string): string {
  const mark = MARKS[marketCode] ?? {
    ...FALLBACK,
    letters: (marketCode[0] ?? '?').toUpperCase(),
  };
  const size = mark.letters.length > 1 ? 13 : 17;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32" width="32" height="32">` +
    `<circle cx="16" cy="16" r="16" fill="${mark.colour}"/>` +
    `<text x="16" y="16" dy="0.35em" text-anchor="middle" font-family="system-ui,sans-serif" ` +
    `font-weight="700" font-size="${size}" fill="${mark.ink}">${escapeXml(mark.letters)}</text></svg>`
  );
}

export const isKnownMarketIcon = (code: string): boolean => Object.hasOwn(MARKS, code);

const escapeXml = (text: string) =>
  text.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'));

export const FAVICON_SVG =
  `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">` +
  `<rect width="32" height="32" rx="7" fill="#0F766E"/>` +
  `<path d="M9 21c2 0 3-1.5 3-3.5S11 14 9 14m7 7c2 0 3-1.5 3-3.5S18 14 16 14m7 7c2 0 3-1.5 3-3.5S25 14 23 14" ` +
  `stroke="#fff" stroke-width="2.4" fill="none" stroke-linecap="round"/></svg>`;
