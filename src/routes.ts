/** Every route of the server, by module. The route meta-test walks this list. */
import type { AnyRoute } from './http/route.js';
import { authRoutes } from './modules/auth/auth.routes.js';
import { organizationsRoutes } from './modules/organizations/organizations.routes.js';
import { systemRoutes } from './modules/system/system.routes.js';
import { tokensRoutes } from './modules/tokens/tokens.routes.js';
import { usersRoutes } from './modules/users/users.routes.js';

export const allRoutes: readonly AnyRoute[] = [...systemRoutes, ...authRoutes, ...usersRoutes, ...tokensRoutes, ...organizationsRoutes];
