/**
 * The one error class. Each error has a stable code, an HTTP status and a message safe to show;
 * the error handler turns it into Label Studio's error shape.
 */
export type ValidationErrors = Record<string, string[]>;

/** An error with a stable code, an HTTP status and a message safe to show to the client. */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly validationErrors?: ValidationErrors,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

/** 404: the object does not exist or the caller may not know it does. */
export const notFound = (what = 'Not found.') => new AppError(404, 'NOT_FOUND', what);
/** 403: the caller may see the object but not do this. */
export const forbidden = (why = 'You do not have permission to perform this action.') => new AppError(403, 'FORBIDDEN', why);
/** 401: no valid credentials came with the request. */
export const unauthenticated = (why = 'Authentication credentials were not provided.') =>
  new AppError(401, 'NOT_AUTHENTICATED', why);
/** A 400 naming the field(s) at fault. */
export const invalid = (errors: ValidationErrors, detail = 'Validation error') =>
  new AppError(400, 'VALIDATION_ERROR', detail, errors);
