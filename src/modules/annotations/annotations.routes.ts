/** Annotations, drafts and predictions (Label Studio's paths and shapes). */
import { Type } from '@sinclair/typebox';
import { ErrorResponse, Id, IdParams, NoContent } from '../../http/common-schemas.js';
import { defineRoute } from '../../http/route.js';
import { AnnotationBody, AnnotationResponse, DraftBody, DraftResponse, PredictionBody, PredictionPatchBody, PredictionResponse } from '../tasks/tasks.schemas.js';
import { createAnnotation, deleteAnnotation, getAnnotation, listTaskAnnotations, updateAnnotation } from './annotations.service.js';
import { createDraft, deleteDraft, getDraft, listTaskDrafts, updateDraft } from './drafts.service.js';
import { createPrediction, deletePrediction, getPrediction, listPredictions, updatePrediction } from './predictions.service.js';

const TaskAnnotationParams = Type.Object({ id: Id(), annotation: Id() }, { additionalProperties: false });
const Refused = { 400: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse };

export const annotationsRoutes = [
  defineRoute({
    method: 'GET',
    url: '/api/tasks/:id/annotations',
    summary: "A task's annotations",
    tags: ['Annotations'],
    access: 'project.view',
    scope: { task: { param: 'id' } },
    schema: { params: IdParams, response: { 200: Type.Array(AnnotationResponse), 404: ErrorResponse } },
    audit: null,
    handler: async ({ deps, actor, params }) => listTaskAnnotations(deps.db, actor, params.id),
  }),
  defineRoute({
    method: 'POST',
    url: '/api/tasks/:id/annotations',
    summary: 'Submit (or skip, with was_cancelled) an annotation of a task',
    tags: ['Annotations'],
    access: 'annotation.create',
    scope: { task: { param: 'id' } },
    schema: { params: IdParams, body: AnnotationBody, response: { 201: AnnotationResponse, ...Refused } },
    audit: ['annotation.create'],
    handler: async ({ deps, actor, audit, params, body, reply }) => reply.code(201).send(await createAnnotation(deps, actor, audit, params.id, body)),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/annotations/:id',
    summary: 'One annotation',
    tags: ['Annotations'],
    access: 'project.view',
    scope: { annotation: { param: 'id' } },
    schema: { params: IdParams, response: { 200: AnnotationResponse, 404: ErrorResponse } },
    audit: null,
    handler: async ({ deps, actor, params }) => getAnnotation(deps.db, actor, params.id),
  }),
  defineRoute({
    method: 'PATCH',
    url: '/api/annotations/:id',
    summary: 'Change an annotation (your own; Managers and above: any)',
    tags: ['Annotations'],
    access: 'annotation.create',
    scope: { annotation: { param: 'id' } },
    schema: { params: IdParams, body: AnnotationBody, response: { 200: AnnotationResponse, ...Refused } },
    audit: ['annotation.update'],
    handler: async ({ deps, actor, audit, params, body }) => updateAnnotation(deps, actor, audit, params.id, body),
  }),
  defineRoute({
    method: 'DELETE',
    url: '/api/annotations/:id',
    summary: 'Delete an annotation (your own; Managers and above: any)',
    tags: ['Annotations'],
    access: 'annotation.create',
    scope: { annotation: { param: 'id' } },
    schema: { params: IdParams, response: { 204: NoContent, 403: ErrorResponse, 404: ErrorResponse } },
    audit: ['annotation.delete'],
    handler: async ({ deps, actor, audit, params, reply }) => {
      await deleteAnnotation(deps, actor, audit, params.id);
      return reply.code(204).send();
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/api/tasks/:id/drafts',
    summary: 'Your drafts of a task',
    tags: ['Drafts'],
    access: 'annotation.create',
    scope: { task: { param: 'id' } },
    schema: { params: IdParams, response: { 200: Type.Array(DraftResponse), 404: ErrorResponse } },
    audit: null,
    handler: async ({ deps, actor, params }) => listTaskDrafts(deps.db, actor, params.id),
  }),
  defineRoute({
    method: 'POST',
    url: '/api/tasks/:id/drafts',
    summary: 'Save a draft of a task',
    tags: ['Drafts'],
    access: 'annotation.create',
    scope: { task: { param: 'id' } },
    schema: { params: IdParams, body: DraftBody, response: { 201: DraftResponse, ...Refused } },
    audit: ['draft.save'],
    handler: async ({ deps, actor, audit, params, body, reply }) => reply.code(201).send(await createDraft(deps, actor, audit, params.id, null, body)),
  }),
  defineRoute({
    method: 'POST',
    url: '/api/tasks/:id/annotations/:annotation/drafts',
    summary: 'Save a draft of changes to an annotation',
    tags: ['Drafts'],
    access: 'annotation.create',
    scope: { task: { param: 'id' } },
    schema: { params: TaskAnnotationParams, body: DraftBody, response: { 201: DraftResponse, ...Refused } },
    audit: ['draft.save'],
    handler: async ({ deps, actor, audit, params, body, reply }) => reply.code(201).send(await createDraft(deps, actor, audit, params.id, params.annotation, body)),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/drafts/:id',
    summary: 'One of your drafts',
    tags: ['Drafts'],
    access: 'annotation.create',
    scope: { draft: { param: 'id' } },
    schema: { params: IdParams, response: { 200: DraftResponse, 404: ErrorResponse } },
    audit: null,
    handler: async ({ deps, actor, params }) => getDraft(deps.db, actor, params.id),
  }),
  defineRoute({
    method: 'PATCH',
    url: '/api/drafts/:id',
    summary: 'Change one of your drafts',
    tags: ['Drafts'],
    access: 'annotation.create',
    scope: { draft: { param: 'id' } },
    schema: { params: IdParams, body: DraftBody, response: { 200: DraftResponse, ...Refused } },
    audit: ['draft.save'],
    handler: async ({ deps, actor, audit, params, body }) => updateDraft(deps, actor, audit, params.id, body),
  }),
  defineRoute({
    method: 'DELETE',
    url: '/api/drafts/:id',
    summary: 'Delete one of your drafts',
    tags: ['Drafts'],
    access: 'annotation.create',
    scope: { draft: { param: 'id' } },
    schema: { params: IdParams, response: { 204: NoContent, 404: ErrorResponse } },
    audit: ['draft.delete'],
    handler: async ({ deps, actor, audit, params, reply }) => {
      await deleteDraft(deps, actor, audit, params.id);
      return reply.code(204).send();
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/api/predictions',
    summary: 'Predictions of a task or a project',
    tags: ['Predictions'],
    access: 'project.view',
    scope: { project: { query: 'project' }, optional: true },
    schema: {
      querystring: Type.Object({ task: Type.Optional(Id()), project: Type.Optional(Id()) }, { additionalProperties: false }),
      response: { 200: Type.Array(PredictionResponse), 400: ErrorResponse, 404: ErrorResponse },
    },
    audit: null,
    handler: async ({ deps, actor, query }) => listPredictions(deps.db, actor, query),
  }),
  defineRoute({
    method: 'POST',
    url: '/api/predictions',
    summary: 'Create a prediction for a task (region ids are kept)',
    tags: ['Predictions'],
    access: 'task.change',
    scope: { task: { body: 'task' } },
    schema: { body: PredictionBody, response: { 201: PredictionResponse, ...Refused } },
    audit: ['prediction.create'],
    handler: async ({ deps, actor, audit, body, reply }) => reply.code(201).send(await createPrediction(deps, actor, audit, body)),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/predictions/:id',
    summary: 'One prediction',
    tags: ['Predictions'],
    access: 'project.view',
    scope: { prediction: { param: 'id' } },
    schema: { params: IdParams, response: { 200: PredictionResponse, 404: ErrorResponse } },
    audit: null,
    handler: async ({ deps, actor, params }) => getPrediction(deps.db, actor, params.id),
  }),
  defineRoute({
    method: 'PATCH',
    url: '/api/predictions/:id',
    summary: 'Change a prediction',
    tags: ['Predictions'],
    access: 'task.change',
    scope: { prediction: { param: 'id' } },
    schema: { params: IdParams, body: PredictionPatchBody, response: { 200: PredictionResponse, ...Refused } },
    audit: ['prediction.update'],
    handler: async ({ deps, actor, audit, params, body }) => updatePrediction(deps, actor, audit, params.id, body),
  }),
  defineRoute({
    method: 'DELETE',
    url: '/api/predictions/:id',
    summary: 'Delete a prediction',
    tags: ['Predictions'],
    access: 'task.change',
    scope: { prediction: { param: 'id' } },
    schema: { params: IdParams, response: { 204: NoContent, 404: ErrorResponse } },
    audit: ['prediction.delete'],
    handler: async ({ deps, actor, audit, params, reply }) => {
      await deletePrediction(deps, actor, audit, params.id);
      return reply.code(204).send();
    },
  }),
];
