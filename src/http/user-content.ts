/**
 * How user content (uploaded files) is served. The Content-Type comes from a fixed allowlist by
 * file extension — never from what the uploader claimed — and anything not on it is
 * `application/octet-stream`. Types a browser could run as a document (HTML, SVG, XML, script,
 * unknown) are always downloaded (`Content-Disposition: attachment`); every file gets nosniff and
 * a sandboxing CSP, so even a file opened directly cannot run script in the app's origin.
 */
import path from 'node:path';

/** Types that are shown inline: media and plain data that no browser executes. */
const INLINE: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.bmp': 'image/bmp',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
  '.ico': 'image/x-icon',
  '.mp3': 'audio/mpeg',
  '.wav': 'audio/wav',
  '.ogg': 'audio/ogg',
  '.oga': 'audio/ogg',
  '.flac': 'audio/flac',
  '.m4a': 'audio/mp4',
  '.aac': 'audio/aac',
  '.opus': 'audio/opus',
  '.aiff': 'audio/aiff',
  '.au': 'audio/basic',
  '.mp4': 'video/mp4',
  '.m4v': 'video/mp4',
  '.webm': 'video/webm',
  '.ogv': 'video/ogg',
  '.mov': 'video/quicktime',
  '.avi': 'video/x-msvideo',
  '.txt': 'text/plain; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.tsv': 'text/tab-separated-values; charset=utf-8',
  '.json': 'application/json',
  '.jsonl': 'application/x-ndjson',
  '.pdf': 'application/pdf',
};

/** Types that could run as active content: served with their type, but only as downloads. */
const ATTACHMENT_ONLY: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.xhtml': 'application/xhtml+xml',
  '.svg': 'image/svg+xml',
  '.xml': 'application/xml',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
};

/** A policy under which nothing in the file can run, load, frame or submit anything. */
export const USER_CONTENT_CSP = "default-src 'none'; img-src 'self' data:; media-src 'self'; style-src 'unsafe-inline'; sandbox; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/** The response headers for serving the stored file `name` (its extension decides). */
export function userContentHeaders(name: string): Record<string, string> {
  const ext = path.extname(name).toLowerCase();
  const inline = INLINE[ext];
  const headers: Record<string, string> = {
    'content-type': inline ?? ATTACHMENT_ONLY[ext] ?? 'application/octet-stream',
    'x-content-type-options': 'nosniff',
    'content-security-policy': USER_CONTENT_CSP,
    'cross-origin-resource-policy': 'same-origin',
  };
  if (inline === undefined) {
    // Stored names are [\w.-] only (storedName); quote anyway.
    headers['content-disposition'] = `attachment; filename="${path.basename(name).replace(/[^\w.-]/g, '_')}"`;
  }
  return headers;
}
