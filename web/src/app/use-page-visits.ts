/**
 * Reports each page the app shows to the server's usage statistics (`POST /api/usage/page-visits`),
 * which counts it by route pattern only, never by path. Once the server answers that
 * COLLECT_ANALYTICS is off, the app stops reporting until the next full page load.
 */
import { useEffect } from 'react';
import { api } from '../api/client';

let collecting = true;

/** Reports `path` (no query string) whenever it changes; failures are ignored. */
export function usePageVisits(path: string): void {
  useEffect(() => {
    if (!collecting) return;
    api<{ collect_analytics: boolean }>('POST', '/api/usage/page-visits', { path })
      .then((r) => {
        if (!r.collect_analytics) collecting = false;
      })
      .catch(() => undefined);
  }, [path]);
}
