/** Schemas shared by many routes: ids, errors, paging. */
import { Type, type TSchema } from '@sinclair/typebox';
import { AppError } from './errors.js';

/** A database id: positive and within PostgreSQL's integer range (larger values would be a 500 there). */
export const Id = (opts: { description?: string } = {}) => Type.Integer({ minimum: 1, maximum: 2_147_483_647, ...opts });
/** A list of ids in a body. */
export const Ids = (maxItems = 100_000) => Type.Array(Id(), { maxItems });
/** Seconds of work or a model score: finite and bounded, so every database stores it exactly. */
export const Measure = (opts: { minimum?: number; maximum?: number } = {}) => Type.Number({ minimum: -1e12, maximum: 1e12, ...opts });

export const IdParams = Type.Object({ id: Id() }, { additionalProperties: false });

export const ErrorResponse = Type.Object(
  {
    status_code: Type.Integer(),
    detail: Type.String(),
    code: Type.Optional(Type.String()),
    validation_errors: Type.Optional(Type.Record(Type.String(), Type.Array(Type.String()))),
  },
  { additionalProperties: false },
);

export const NoContent = Type.Null({ description: 'No content' });

export const PagingQuery = {
  page: Type.Optional(Type.Integer({ minimum: 1 })),
  page_size: Type.Optional(Type.Integer({ minimum: -1, maximum: 10_000_000 })),
};

/** `{count, next, previous, results}` around an item schema. */
export const Paginated = <T extends TSchema>(item: T) =>
  Type.Object(
    {
      count: Type.Integer(),
      next: Type.Union([Type.String(), Type.Null()]),
      previous: Type.Union([Type.String(), Type.Null()]),
      results: Type.Array(item),
    },
    { additionalProperties: false },
  );

export const DEFAULT_PAGE_SIZE = 100;

/**
 * Offset and limit for a page. Label Studio's clients page until a 404, so a page past the end
 * is a 404 (except page 1, which is always valid). `page_size=-1` means everything.
 */
export function pageWindow(q: { page?: number | undefined; page_size?: number | undefined }, total: number) {
  const page = q.page ?? 1;
  const size = q.page_size === undefined || q.page_size === 0 ? DEFAULT_PAGE_SIZE : q.page_size === -1 ? Math.max(total, 1) : q.page_size;
  const offset = (page - 1) * size;
  if (page > 1 && offset >= total) throw new AppError(404, 'PAGE_NOT_FOUND', 'Invalid page.');
  return { page, size, offset };
}

/** Builds the `{count, next, previous, results}` envelope with links relative to the request path. */
export function pageEnvelope<T>(url: string, w: { page: number; size: number; offset: number }, total: number, results: T[]) {
  const link = (p: number) => {
    const u = new URL(url, 'http://x');
    u.searchParams.set('page', String(p));
    return `${u.pathname}${u.search}`;
  };
  return {
    count: total,
    next: w.offset + w.size < total ? link(w.page + 1) : null,
    previous: w.page > 1 ? link(w.page - 1) : null,
    results,
  };
}
