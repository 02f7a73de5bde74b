/**
 * How long an IP stays banned: the first ban lasts 2 minutes and each further ban of the same
 * IP doubles it, up to 3 days — 3Commas' ladder. The ladder remembers an IP's bans until
 * `LADDER_MEMORY_MS` after its latest ban ended; an IP that behaves that long starts again at
 * the first step.
 */
export const FIRST_BAN_MS = 2 * 60_000;
export const LONGEST_BAN_MS = 3 * 24 * 3_600_000;
export const LADDER_MEMORY_MS = 7 * 24 * 3_600_000;

/** The length of an IP's `level`-th ban (1 for the first). */
export function banLengthMs(level: number): number {
  // 2^12 × 2 minutes is already past the cap: no overflow from a large level.
  return Math.min(FIRST_BAN_MS * 2 ** Math.min(Math.max(level, 1) - 1, 12), LONGEST_BAN_MS);
}

/** `90 seconds`, `2 minutes`, `1.5 hours`, `3 days`: for error descriptions and logs. */
export function describeDuration(ms: number): string {
  const units: Array<[string, number]> = [
    ['day', 86_400_000],
    ['hour', 3_600_000],
    ['minute', 60_000],
    ['second', 1000],
  ];
  for (const [name, size] of units) {
    if (ms >= size && (ms % size === 0 || ms >= 2 * size || size === 1000)) {
      const value = Math.round((ms / size) * 10) / 10;
      return `${value} ${name}${value === 1 ? '' : 's'}`;
    }
  }
  return `${Math.max(1, Math.ceil(ms / 1000))} second${ms > 1000 ? 's' : ''}`;
}
