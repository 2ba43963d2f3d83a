/** Annotation reviews: Label Studio Enterprise's `/api/annotation-reviews/` paths and shapes. */
import { Type } from '@sinclair/typebox';
import { ErrorResponse, IdParams, NoContent } from '../../http/common-schemas.js';
import { defineRoute } from '../../http/route.js';
import { ReviewCreateBody, ReviewListQuery, ReviewPatchBody, ReviewResponse } from './reviews.schemas.js';
import { createReview, deleteReview, getReview, listReviews, updateReview } from './reviews.service.js';

const Refused = { 400: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse };

export const reviewsRoutes = [
  defineRoute({
    method: 'GET',
    url: '/api/annotation-reviews',
    summary: 'Reviews of an annotation (?annotation=) or of a project (?annotation__task__project=), a plain list (Annotators: of their own annotations)',
    tags: ['Annotation Reviews'],
    access: 'project.view',
    scope: { annotation: { query: 'annotation' }, optional: true },
    schema: { querystring: ReviewListQuery, response: { 200: Type.Array(ReviewResponse), ...Refused } },
    audit: null,
    handler: async ({ deps, actor, query }) => listReviews(deps.db, actor, query),
  }),
  defineRoute({
    method: 'POST',
    url: '/api/annotation-reviews',
    summary: "Accept or reject someone else's annotation, with an optional comment",
    tags: ['Annotation Reviews'],
    access: 'annotation.review',
    scope: { annotation: { body: 'annotation' } },
    schema: { body: ReviewCreateBody, response: { 201: ReviewResponse, ...Refused } },
    audit: ['annotation.review'],
    handler: async ({ deps, actor, audit, body, reply }) => reply.code(201).send(await createReview(deps, actor, audit, body)),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/annotation-reviews/:id',
    summary: 'One review (Annotators: a review of their own annotation)',
    tags: ['Annotation Reviews'],
    access: 'project.view',
    scope: { review: { param: 'id' } },
    schema: { params: IdParams, response: { 200: ReviewResponse, 403: ErrorResponse, 404: ErrorResponse } },
    audit: null,
    handler: async ({ deps, actor, params }) => getReview(deps.db, actor, params.id),
  }),
  defineRoute({
    method: 'PATCH',
    url: '/api/annotation-reviews/:id',
    summary: 'Change a review (its reviewer; Managers and above: any)',
    tags: ['Annotation Reviews'],
    access: 'annotation.review',
    scope: { review: { param: 'id' } },
    schema: { params: IdParams, body: ReviewPatchBody, response: { 200: ReviewResponse, ...Refused } },
    audit: ['annotation.review_update'],
    handler: async ({ deps, actor, audit, params, body }) => updateReview(deps, actor, audit, params.id, body),
  }),
  defineRoute({
    method: 'PUT',
    url: '/api/annotation-reviews/:id',
    summary: 'Overwrite a review (its reviewer; Managers and above: any)',
    tags: ['Annotation Reviews'],
    access: 'annotation.review',
    scope: { review: { param: 'id' } },
    schema: { params: IdParams, body: ReviewCreateBody, response: { 200: ReviewResponse, ...Refused } },
    audit: ['annotation.review_update'],
    handler: async ({ deps, actor, audit, params, body }) => updateReview(deps, actor, audit, params.id, { ...body, comment: body.comment ?? null }),
  }),
  defineRoute({
    method: 'DELETE',
    url: '/api/annotation-reviews/:id',
    summary: 'Delete a review (its reviewer; Managers and above: any)',
    tags: ['Annotation Reviews'],
    access: 'annotation.review',
    scope: { review: { param: 'id' } },
    schema: { params: IdParams, response: { 204: NoContent, 403: ErrorResponse, 404: ErrorResponse } },
    audit: ['annotation.review_delete'],
    handler: async ({ deps, actor, audit, params, reply }) => {
      await deleteReview(deps, actor, audit, params.id);
      return reply.code(204).send();
    },
  }),
];
