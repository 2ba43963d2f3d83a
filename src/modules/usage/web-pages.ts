/**
 * The web app's pages as route patterns: the only form in which page visits are counted (usage
 * statistics), never the path itself, which carries ids. The web app reports the path of each
 * page it shows (web/src/app/use-page-visits.ts); the server maps it here, so nothing else is kept.
 * Keep in step with the app's router (web/src/app/app.tsx).
 */

/** Every page the web app routes to, as the pattern it is counted under. */
export const WEB_PAGE_PATTERNS = [
  '/',
  '/login',
  '/user/login',
  '/user/signup',
  '/account',
  '/projects',
  '/projects/new',
  '/projects/:id',
  '/projects/:id/data',
  '/projects/:id/label',
  '/projects/:id/review',
  '/projects/:id/export',
  '/projects/:id/settings',
  '/projects/:id/settings/:section',
  '/organization',
  '/organization/workspaces',
] as const;

export type WebPagePattern = (typeof WEB_PAGE_PATTERNS)[number];

/** What a pattern's parameter may stand for: ids are digits, sections lowercase words. */
const PARAM: Record<string, RegExp> = { ':id': /^\d{1,10}$/, ':section': /^[a-z][a-z-]{0,39}$/ };

/**
 * The pattern of a web app path (query string, fragment and trailing slash ignored), or null
 * when the app has no such page. Literal segments win over parameters (`/projects/new`).
 */
export function webPagePattern(path: string): WebPagePattern | null {
  const clean = path.split(/[?#]/)[0]!.replace(/(.)\/+$/, '$1');
  const have = clean.split('/');
  let best: WebPagePattern | null = null;
  let bestParams = Infinity;
  for (const pattern of WEB_PAGE_PATTERNS) {
    const want = pattern.split('/');
    if (want.length !== have.length) continue;
    let params = 0;
    const fits = want.every((w, i) => {
      if (!w.startsWith(':')) return w === have[i];
      params += 1;
      return PARAM[w]!.test(have[i]!);
    });
    if (fits && params < bestParams) [best, bestParams] = [pattern, params];
  }
  return best;
}
