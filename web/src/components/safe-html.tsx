/**
 * Shows HTML written by a project's managers (Label Studio stores instructions as HTML) without
 * ever handing it to innerHTML: the text is parsed into an inert document (DOMParser runs no
 * script and loads nothing), and only allowlisted elements and attributes are rebuilt as React
 * elements. Everything else is dropped, its text kept (except inside script-like elements).
 * Links must be http(s), mailto or same-site paths and open in a new tab without an opener;
 * images must be same-site, http(s), or raster data URLs (the page's CSP decides what loads).
 */
import { createElement, type ReactNode } from 'react';

/** Elements kept, with the attributes each may keep. */
const ALLOWED: Record<string, readonly string[]> = {
  a: ['href', 'title'],
  img: ['src', 'alt', 'title', 'width', 'height'],
  td: ['colspan', 'rowspan'],
  th: ['colspan', 'rowspan'],
  ...Object.fromEntries(
    ['p', 'br', 'hr', 'b', 'strong', 'i', 'em', 'u', 's', 'del', 'ins', 'mark', 'small', 'sub', 'sup', 'code', 'pre', 'kbd', 'blockquote', 'ul', 'ol', 'li', 'dl', 'dt', 'dd', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'span', 'div', 'table', 'thead', 'tbody', 'tfoot', 'tr', 'caption'].map((t) => [t, [] as const]),
  ),
};

/** Elements dropped with everything inside them. */
const DROPPED_WHOLE = new Set(['script', 'style', 'template', 'noscript', 'iframe', 'object', 'embed', 'svg', 'math', 'head', 'title', 'textarea', 'select', 'button']);

/** Elements React renders without children. */
const VOID = new Set(['br', 'hr', 'img']);

const REACT_NAMES: Record<string, string> = { colspan: 'colSpan', rowspan: 'rowSpan' };

/** A link target that cannot run script: http(s), mailto, or a path/anchor on this site. */
export function safeHref(value: string): string | null {
  const v = value.trim();
  if (/^(https?:|mailto:)/i.test(v)) return v;
  if (/^(\/(?!\/)|#|\?)/.test(v)) return v;
  return null;
}

/** An image source: http(s), a path on this site, or a PNG/JPEG/GIF/WebP data URL (never SVG). */
export function safeImageSrc(value: string): string | null {
  const v = value.trim();
  if (/^https?:/i.test(v) || /^\/(?!\/)/.test(v)) return v;
  if (/^data:image\/(png|jpe?g|gif|webp);base64,[a-z0-9+/=\s]+$/i.test(v)) return v;
  return null;
}

function attributesOf(el: Element, tag: string): Record<string, string | number> | null {
  const props: Record<string, string | number> = {};
  for (const name of Object.hasOwn(ALLOWED, tag) ? ALLOWED[tag]! : []) {
    const raw = el.getAttribute(name);
    if (raw === null) continue;
    if (name === 'href') {
      const href = safeHref(raw);
      if (href) Object.assign(props, { href, target: '_blank', rel: 'noopener noreferrer nofollow' });
    } else if (name === 'src') {
      const src = safeImageSrc(raw);
      if (!src) return null; // an image without a safe source is dropped
      props.src = src;
    } else if (['width', 'height', 'colspan', 'rowspan'].includes(name)) {
      const n = Number.parseInt(raw, 10);
      if (Number.isFinite(n) && n > 0 && n <= 5000) props[REACT_NAMES[name] ?? name] = n;
    } else {
      props[name] = raw;
    }
  }
  return props;
}

function convert(node: Node, key: string, depth: number): ReactNode {
  if (node.nodeType === Node.TEXT_NODE) return node.textContent;
  if (node.nodeType !== Node.ELEMENT_NODE || depth > 40) return null;
  const el = node as Element;
  const tag = el.tagName.toLowerCase();
  if (DROPPED_WHOLE.has(tag)) return null;
  const children = () => Array.from(el.childNodes, (c, i) => convert(c, `${key}.${i}`, depth + 1));
  if (!Object.hasOwn(ALLOWED, tag)) return createElement('span', { key }, ...children()); // unknown element: its text stays
  const props = attributesOf(el, tag);
  if (!props) return null;
  return VOID.has(tag) ? createElement(tag, { key, ...props }) : createElement(tag, { key, ...props }, ...children());
}

/** React elements for `html`, keeping only the allowlist. */
export function sanitizedNodes(html: string): ReactNode[] {
  const doc = new DOMParser().parseFromString(html, 'text/html');
  return Array.from(doc.body.childNodes, (n, i) => convert(n, String(i), 0));
}

/** Renders `html` through the allowlist, inside a div with `className`. */
export function SafeHtml({ html, className, testId }: { html: string; className?: string; testId?: string }) {
  return (
    <div className={className} data-testid={testId}>
      {sanitizedNodes(html)}
    </div>
  );
}
