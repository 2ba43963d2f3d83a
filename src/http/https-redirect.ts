/**
 * The optional plain-HTTP listener (HTTP_REDIRECT_PORT) that serves nothing: every request is
 * answered 308 to the same path over HTTPS, so no page, cookie or token is ever exchanged in
 * clear text. main.ts listens with it beside the HTTPS app.
 */
import http from 'node:http';

/** Where HTTPS is: the public base URL if configured, and the port the HTTPS listener got. */
export interface HttpsTarget {
  publicUrl: string | undefined;
  httpsPort: number;
}

/**
 * The HTTPS URL a plain-HTTP request should go to: LABEL_STUDIO_HOST when it is an https URL,
 * else the host the client asked for on the HTTPS port. Null when the Host header is unusable.
 */
export function httpsLocation(to: HttpsTarget, hostHeader: string | undefined, pathAndQuery: string): string | null {
  const target = pathAndQuery.startsWith('/') ? pathAndQuery : '/';
  const pub = to.publicUrl;
  if (pub?.startsWith('https://')) return `${pub}${target}`;
  if (!hostHeader) return null;
  let hostname: string;
  try {
    hostname = new URL(`http://${hostHeader}`).hostname;
  } catch {
    return null;
  }
  if (!hostname) return null;
  const port = to.httpsPort === 443 ? '' : `:${to.httpsPort}`;
  return `https://${hostname}${port}${target}`;
}

/** Creates (does not listen) the redirect-only HTTP server. */
export function createRedirectServer(to: HttpsTarget): http.Server {
  return http.createServer((req, res) => {
    const location = httpsLocation(to, req.headers.host, req.url ?? '/');
    res.setHeader('cache-control', 'no-store');
    res.setHeader('x-content-type-options', 'nosniff');
    if (location === null) {
      res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' }).end('Use HTTPS.\n');
      return;
    }
    res.writeHead(308, { location, 'content-type': 'text/plain; charset=utf-8' }).end(`Moved to ${location}\n`);
  });
}
