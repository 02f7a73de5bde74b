/** The dashboard's sign-in page for a one-time link token, under the server's base URL. */
export const loginLinkUrl = (baseUrl: string, token: string) =>
  `${baseUrl.replace(/\/+$/, '')}/login?token=${encodeURIComponent(token)}`;

/** `15 minutes`, `7 days`, `90 seconds`: a link's validity, in the largest whole unit. */
export function describeDuration(ms: number): string {
  const units: Array<[string, number]> = [
    ['day', 86_400_000],
    ['hour', 3_600_000],
    ['minute', 60_000],
    ['second', 1000],
  ];
  for (const [name, size] of units) {
    if (ms >= size && ms % size === 0) {
      const count = ms / size;
      return `${count} ${name}${count === 1 ? '' : 's'}`;
    }
  }
  return `${ms} ms`;
}
