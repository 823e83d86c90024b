import type { FastifyRequest } from 'fastify';
import type { AuthenticatedUser } from './context.ts';
import { errors } from './errors.ts';

/** Scheme and host of this request: links we return point back where the client came from. */
export function baseUrl(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

/** The authenticated caller; routes with `auth: 'optional'` must check for null themselves. */
export function requireUser(request: FastifyRequest): AuthenticatedUser {
  const user = request.ctx.user;
  if (!user) throw errors.unauthenticated();
  return user;
}
