import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import qs from 'qs';
import secureJson from 'secure-json-parse';
import type { Config } from './config.ts';
import type { Database } from './db/database.ts';
import { type AccountCache, subdomainFromHost } from './accounts/resolve-account.ts';
import { authenticate, hasScopeFor } from './auth/authenticate.ts';
import type { CredentialCache } from './auth/credential-cache.ts';
import { AppError, errors, registerErrorHandling, sendError, toAppError } from './http/errors.ts';
import { RateLimiter } from './http/rate-limit.ts';
import { errorResponses } from './http/schemas.ts';
import type { Jobs } from './jobs/jobs.ts';
import type { FileStorage } from './tickets/storage.ts';
import './http/context.ts';
import { usersRoutes } from './users/users.routes.ts';
import { identitiesRoutes } from './identities/identities.routes.ts';
import { jobStatusesRoutes } from './jobs/job-statuses.routes.ts';
import { apiTokensRoutes } from './auth/api-tokens.routes.ts';
import { oauthRoutes } from './auth/oauth.routes.ts';
import { accountSettingsRoutes } from './accounts/account-settings.routes.ts';
import { passwordsRoutes } from './users/passwords.routes.ts';
import { rolesRoutes } from './roles/roles.routes.ts';
import { groupsRoutes } from './groups/groups.routes.ts';
import { customFieldsRoutes } from './custom-fields/custom-fields.routes.ts';
import { organizationsRoutes } from './organizations/organizations.routes.ts';
import { organizationMembershipsRoutes } from './organizations/organization-memberships.routes.ts';
import { searchRoutes } from './search/search.routes.ts';
import { ticketsRoutes } from './tickets/tickets.routes.ts';
import { requestsRoutes } from './tickets/requests.routes.ts';
import { uploadsRoutes } from './tickets/uploads.routes.ts';
import { redactionRoutes } from './tickets/redaction.routes.ts';
import { redactionSuggestionsRoutes } from './privacy/pii/redaction-suggestions.routes.ts';
import { auditLogsRoutes } from './audit/audit-logs.routes.ts';
import { deletedTicketsRoutes } from './tickets/deleted-tickets.routes.ts';
import { suspendedTicketsRoutes } from './tickets/suspended-tickets.routes.ts';
import { lifecycleRoutes } from './lifecycle/lifecycle.routes.ts';
import { importsRoutes } from './imports/imports.routes.ts';
import { dataExportsRoutes } from './privacy/exports/exports.routes.ts';
import { erasureRoutes } from './privacy/erasure/erasure.routes.ts';
import type { Mail } from './mail/outbox.ts';
import { outboxRoutes } from './mail/outbox.routes.ts';
import { accountMailRoutes } from './mail/account-mail.routes.ts';
import { inboundEmailRoutes } from './mail/inbound/inbound-email.routes.ts';

export interface Services {
  config: Config;
  database: Database;
  jobs: Jobs;
  accounts: AccountCache;
  credentials: CredentialCache;
  /** Attachment bytes (src/tickets/storage.ts). */
  storage: FileStorage;
  /** Outbound mail: the outbox and its delivery (src/mail/outbox.ts). */
  mail: Mail;
}

export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** Personal data must not reach the logs: log the route, never the query string or headers. */
const logSerializers = {
  req: (req: { method: string; routeOptions?: { url?: string }; url: string }) => ({
    method: req.method,
    route: req.routeOptions?.url ?? req.url.split('?')[0]?.replace(/\/\d+/g, '/:id'),
  }),
};

export async function buildApp(services: Services & { logger?: boolean | object }): Promise<App> {
  const { config, database } = services;
  const app = Fastify({
    logger: services.logger === undefined ? false : services.logger === true ? { level: config.logLevel, serializers: logSerializers } : services.logger,
    // Zendesk paths take an optional `.json` suffix.
    rewriteUrl: (req) => (req.url ?? '/').replace(/\.json(?=$|\?)/, ''),
    routerOptions: {
      ignoreTrailingSlash: true,
      maxParamLength: 200,
      querystringParser: (raw: string) => qs.parse(raw, { depth: 2, arrayLimit: 100, parameterLimit: 200, allowDots: false }),
    },
    bodyLimit: 10 * 1024 * 1024,
    // Errors raised before routing (an undecodable URL) skip the error handler: give them the same body.
    frameworkErrors: (error, _request, reply) => {
      sendError(reply, toAppError(error) ?? errors.badRequest('The request URL is malformed'));
    },
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false, allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as App;

  const { accounts } = services;
  const all: Services = services;
  const limiter = config.rateLimitPerMinute > 0 ? new RateLimiter(config.rateLimitPerMinute) : null;

  registerErrorHandling(app);

  // JSON with an empty body is accepted (clients send Content-Type on bodiless PUT/DELETE);
  // prototype-poisoning keys are refused as Fastify's own parser does.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' }));
    } catch {
      done(errors.badRequest('The request body is not valid JSON', 'InvalidJSON'), undefined);
    }
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Roster API', description: 'Zendesk-compatible people & privacy API', version: '0.1.0' },
      components: {
        securitySchemes: {
          basicAuth: { type: 'http', scheme: 'basic' },
          bearerAuth: { type: 'http', scheme: 'bearer' },
        },
      },
      security: [{ basicAuth: [] }, { bearerAuth: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs' });

  app.decorateRequest('ctx', null as never);

  app.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith('/api/v2')) return;
    const subdomain = subdomainFromHost(request.headers.host, config.baseDomain);
    const account = await accounts.get(subdomain);
    if (!account) throw new AppError('RecordNotFound', 404, 'There is no account at this address');
    if (limiter) {
      const { remaining, retryAfterSeconds } = limiter.take(account.id);
      reply.header('X-Rate-Limit', String(limiter.perMinute));
      reply.header('X-Rate-Limit-Remaining', String(remaining));
      if (retryAfterSeconds !== null) throw errors.rateLimited(retryAfterSeconds);
    }
    const header = request.headers.authorization;
    const credentials = await services.credentials.authenticate(account, header, () => authenticate(database.db, account, header));
    request.ctx = { account, ...credentials };
    // Authentication is required unless the route says otherwise; refused before the body is read.
    if (!credentials.user && request.routeOptions.config?.auth !== 'optional') throw errors.unauthenticated();
    if (!hasScopeFor(request.method, credentials.scopes)) throw errors.forbidden();
  });

  // Served as /api/v2/openapi.json: the `.json` suffix is stripped before routing, as on every path.
  app.get('/api/v2/openapi', {
    config: { auth: 'optional' },
    schema: {
      tags: ['Documentation'],
      summary: 'This OpenAPI 3 document (also at /api/docs/json)',
      response: {
        200: Type.Object({ openapi: Type.String() }, { additionalProperties: true, description: 'An OpenAPI 3 document' }),
        ...errorResponses,
      },
    },
  }, async () => {
    const document = app.swagger();
    // Registered with `openapi: '3.0.3'` above, so never the Swagger 2 shape.
    if (!('openapi' in document)) throw new Error('The API document is not OpenAPI 3');
    return document;
  });
  app.get('/', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/api/docs'));

  await app.register(async (api) => {
    await usersRoutes(api as App, all);
    await passwordsRoutes(api as App, all);
    await identitiesRoutes(api as App, all);
    await jobStatusesRoutes(api as App, all);
    await apiTokensRoutes(api as App, all);
    await oauthRoutes(api as App, all);
    await accountSettingsRoutes(api as App, all);
    await rolesRoutes(api as App, all);
    await groupsRoutes(api as App, all);
    await customFieldsRoutes(api as App, all);
    await organizationsRoutes(api as App, all);
    await organizationMembershipsRoutes(api as App, all);
    await searchRoutes(api as App, all);
    await ticketsRoutes(api as App, all);
    await requestsRoutes(api as App, all);
    await uploadsRoutes(api as App, all);
    await redactionRoutes(api as App, all);
    await redactionSuggestionsRoutes(api as App, all);
    await auditLogsRoutes(api as App, all);
    await deletedTicketsRoutes(api as App, all);
    await suspendedTicketsRoutes(api as App, all);
    await lifecycleRoutes(api as App, all);
    await importsRoutes(api as App, all);
    await dataExportsRoutes(api as App, all);
    await erasureRoutes(api as App, all);
    await outboxRoutes(api as App, all);
    await accountMailRoutes(api as App, all);
    await inboundEmailRoutes(api as App, all);
  });

  app.addHook('onSend', async (_request, reply, payload) => {
    if (reply.statusCode === 401) reply.header('WWW-Authenticate', 'Basic realm="Roster"');
    return payload;
  });

  return app;
}
