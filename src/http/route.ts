/**
 * A route is a declaration: method, path, who may call it, what it accepts, what it returns and
 * what it records. `registerRoutes` refuses a declaration that lacks any of these.
 */
import type { Static, TSchema } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Transaction } from 'kysely';
import type { AuditAction } from '../audit/actions.js';
import type { AuditDetails } from '../audit/recorder.js';
import type { Permission } from '../authz/permissions.js';
import type { ResolvedScope, ScopeRule } from '../authz/scope.js';
import type { Db } from '../db/database.js';
import type { Database } from '../db/schema.js';
import type { AppDeps } from '../app-deps.js';
import type { Actor } from './actor.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RouteSchemas {
  params?: TSchema;
  querystring?: TSchema;
  body?: TSchema;
  /** One schema per status code; the response is serialised through it, so no field leaks. */
  response: Record<number, TSchema>;
}

type In<T> = T extends TSchema ? Static<T> : undefined;

/** `{ public: "why" }` for routes open to anyone; otherwise a permission from the one table. */
export type Access = Permission | { public: string };

/** Records one of the route's declared audit actions, in the given transaction (resolves to the event id, which callers may ignore). */
export type AuditFn = (db: Db | Transaction<Database>, details: AuditDetails) => Promise<unknown>;

export interface RouteContext<S extends RouteSchemas, A extends Access> {
  params: In<S['params']>;
  query: In<S['querystring']>;
  body: In<S['body']>;
  /** The authenticated caller; present on every non-public route. */
  actor: A extends Permission ? Actor : Actor | null;
  /** The organization, workspace and project the route's scope rule resolved to (null on public routes). */
  scope: A extends Permission ? ResolvedScope : null;
  deps: AppDeps;
  audit: AuditFn;
  req: FastifyRequest;
  reply: FastifyReply;
}

export interface RouteDef<S extends RouteSchemas = RouteSchemas, A extends Access = Access> {
  method: HttpMethod;
  url: string;
  summary: string;
  tags: string[];
  access: A;
  /**
   * How the route finds the organization, workspace and project it acts on (required unless
   * public). The object is resolved and its visibility checked before the permission.
   */
  scope?: A extends Permission ? ScopeRule : never;
  schema: S;
  /** The audit actions this route may record; `null` only for routes that change nothing. */
  audit: readonly AuditAction[] | null;
  /** Cookie-authenticated unsafe requests need a CSRF token unless this is false (with a reason). */
  csrfExempt?: string;
  /**
   * A public change that a plain HTML form may post (urlencoded), with the reason a cross-site
   * forgery gains nothing (e.g. the form carries a secret only the user has).
   */
  htmlForm?: string;
  /** An unsafe-method route that changes nothing (e.g. a validator) says why, instead of audit actions. */
  changesNothing?: string;
  /**
   * The handler reads the request body as a stream (large imports): JSON is not parsed or
   * schema-checked up front; the handler's own reader validates it. Says why.
   */
  streamedBody?: string;
  /** A POST/PUT/PATCH that takes no body says why (e.g. "resets the caller's token"). */
  bodyless?: string;
  handler: (ctx: RouteContext<S, A>) => Promise<unknown>;
}

/** Declares a route with its types checked against its schemas. */
export function defineRoute<S extends RouteSchemas, A extends Access>(def: RouteDef<S, A>): RouteDef<S, A> {
  return def;
}

/** A route of any shape, for registration. */
export type AnyRoute = RouteDef<any, any>;
