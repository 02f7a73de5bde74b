/** The dashboard's sign-in page for a one-time link token, under the server's base URL. */
export const loginLinkUrl = (baseUrl: string, token: string) =>
  `${baseUrl.replace(/\/+$/, '')}/login?token=${encodeURIComponent(token)}`;

/** `15 minutes`, `7 days`: a link's validity, worded as the limits word their windows. */
export { describeDuration } from '../limits/ban-ladder.ts';
