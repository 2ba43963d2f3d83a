/** Meta-test: every route declares its access rule, schemas and audit actions (see STYLE.md). */
import { describe, expect, it } from 'vitest';
import { PERMISSIONS } from '../../src/authz/permissions.js';
import { routeDeclarationProblem } from '../../src/http/register.js';
import { allRoutes } from '../../src/routes.js';

describe('route declarations', () => {
  it.each(allRoutes.map((r) => [`${r.method} ${r.url}`, r] as const))('%s is complete', (_name, route) => {
    expect(routeDeclarationProblem(route)).toBeNull();
    expect(route.summary.length).toBeGreaterThan(5);
    // Objects list their fields and allow no others; maps (patternProperties) and free-form documents are explicit.
    for (const schema of Object.values(route.schema.response) as { type?: string; additionalProperties?: unknown; patternProperties?: unknown }[]) {
      if (schema.type === 'object' && schema.additionalProperties !== true && !schema.patternProperties) expect(schema.additionalProperties).toBe(false);
    }
    if (route.schema.body) {
      type S = { additionalProperties?: unknown; anyOf?: S[]; type?: string; items?: S };
      const body = route.schema.body as S;
      const objects = (body.type === 'array' ? [body.items!] : (body.anyOf ?? [body])).flatMap((v) => v.anyOf ?? [v]);
      for (const variant of objects) expect(variant.additionalProperties).toBe(false);
    }
  });

  it('refuses incomplete declarations', () => {
    const base = allRoutes.find((r) => r.method === 'PATCH')!;
    expect(routeDeclarationProblem({ ...base, audit: null })).toMatch(/audit/);
    expect(routeDeclarationProblem({ ...base, access: 'no.such' as never })).toMatch(/unknown permission/);
    expect(routeDeclarationProblem({ ...base, access: { public: '' } })).toMatch(/reason/);
    expect(routeDeclarationProblem({ ...base, schema: { response: {} } })).toMatch(/response/);
  });

  it('uses only permissions from the one table', () => {
    for (const r of allRoutes) if (typeof r.access === 'string') expect(PERMISSIONS).toContain(r.access);
  });

  it('has no two routes on the same method and path', () => {
    const keys = allRoutes.map((r) => `${r.method} ${r.url.replace(/\/$/, '')}`);
    expect(new Set(keys).size).toBe(keys.length);
  });
});
