/**
 * The web app's only door to the server: the public REST API, same origin, session cookie.
 * Unsafe requests echo the CSRF token (the readable lv_csrftoken cookie) in X-CSRFToken.
 * Every refusal becomes an ApiError carrying the server's own message.
 */

/** An error answered by the server: its status, its message and the fields it names. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly fields: Record<string, string[]> = {},
  ) {
    super(detail);
  }

  /** The message with the named fields, for showing to the user. */
  get lines(): string[] {
    return Object.entries(this.fields).flatMap(([field, msgs]) => msgs.map((m) => `${field}: ${m}`));
  }
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The CSRF token of the current session (set at login, readable by this page only). */
export function csrfToken(): string | undefined {
  const pair = document.cookie.split('; ').find((c) => c.startsWith('lv_csrftoken='));
  return pair ? decodeURIComponent(pair.slice('lv_csrftoken='.length)) : undefined;
}

/** Turns an error body (Label Studio's shape: detail, validation_errors) into an ApiError. */
export function errorFrom(status: number, body: unknown): ApiError {
  const b = (body ?? {}) as { detail?: unknown; validation_errors?: Record<string, string[]> };
  const detail = typeof b.detail === 'string' ? b.detail : `The server answered ${status}.`;
  return new ApiError(status, detail, b.validation_errors ?? {});
}

/** Sent whenever the server says the session is gone, so the app can show the login page. */
export const SESSION_ENDED = 'labelvault:session-ended';

/**
 * One API call: JSON (or FormData) in, JSON out; throws ApiError on any non-2xx answer.
 * `keepalive` lets the request outlive the page (a draft saved while the page unloads).
 */
export async function api<T>(method: string, path: string, body?: unknown, opts: { keepalive?: boolean } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const token = csrfToken();
  if (UNSAFE.has(method) && token) headers['x-csrftoken'] = token;
  let payload: BodyInit | undefined;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: payload ?? null, credentials: 'same-origin', keepalive: opts.keepalive === true });
  } catch {
    throw new ApiError(0, 'The server cannot be reached. Check your connection and try again.');
  }
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = { detail: text.slice(0, 300) };
  }
  if (!res.ok) {
    if (res.status === 401 && !path.startsWith('/api/auth/')) window.dispatchEvent(new Event(SESSION_ENDED));
    throw errorFrom(res.status, json);
  }
  return json as T;
}

/**
 * Uploads a FormData with progress (fetch cannot report upload progress): resolves with the JSON
 * answer, rejects with ApiError.
 */
export function upload<T>(path: string, form: FormData, onProgress: (fraction: number) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    xhr.setRequestHeader('accept', 'application/json');
    const token = csrfToken();
    if (token) xhr.setRequestHeader('x-csrftoken', token);
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onerror = () => reject(new ApiError(0, 'The upload failed: the server cannot be reached.'));
    xhr.onload = () => {
      let json: unknown = null;
      try {
        json = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        json = { detail: xhr.responseText.slice(0, 300) };
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(json as T);
      else reject(errorFrom(xhr.status, json));
    };
    xhr.send(form);
  });
}
