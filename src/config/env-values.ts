/**
 * The value types environment variables are parsed with, part of THE config module: shared by
 * config.ts and the setting groups kept in their own files (file-storage.ts).
 */
import { z } from 'zod';

/** Label Studio writes booleans as True/False; accept any case and 1/0, yes/no, on/off. */
export const bool = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => ['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'].includes(v), {
    message: 'must be true or false (also 1/0, yes/no, on/off)',
  })
  .transform((v) => ['true', '1', 'yes', 'on'].includes(v));

/** A whole number between `min` and `max`. */
export const int = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^-?\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

/** Text that counts as unset when empty or blank. */
export const optionalText = z
  .string()
  .transform((v) => (v.trim() === '' ? undefined : v))
  .optional();

/**
 * A secret setting: `reveal()` gives the value; printing, logging or JSON-serialising the config
 * shows `[redacted]` instead.
 */
export class SecretText {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  /** The secret itself, for the one client that needs it. */
  reveal(): string {
    return this.#value;
  }
  toJSON(): string {
    return '[redacted]';
  }
  toString(): string {
    return '[redacted]';
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return '[redacted]';
  }
}
