import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** One detail of a 422: Zendesk's `details.<field>[]` entries. */
export interface FieldError {
  description: string;
  error: string;
}
export type ErrorDetails = Record<string, FieldError[]>;

const FORBIDDEN_DESCRIPTION =
  'You do not have access to this page. Please contact the account owner of this help desk for further help.';

/**
 * Every error a domain function can raise. The handler below is the one place that turns
 * them into Zendesk's JSON bodies, so a route never builds an error body by hand.
 */
export class AppError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    readonly description: string | undefined,
    readonly details?: ErrorDetails,
    readonly headers?: Record<string, string>,
  ) {
    super(description ?? code);
  }

  body(): Record<string, unknown> {
    if (this.status === 401) return { error: this.code };
    const body: Record<string, unknown> = { error: this.code };
    if (this.description !== undefined) body.description = this.description;
    if (this.details) body.details = this.details;
    return body;
  }
}

export const errors = {
  notFound: () => new AppError('RecordNotFound', 404, 'Not found'),
  invalidEndpoint: () => new AppError('InvalidEndpoint', 404, 'Not found'),
  unauthenticated: () => new AppError("Couldn't authenticate you", 401, undefined),
  forbidden: (description = FORBIDDEN_DESCRIPTION) => new AppError('Forbidden', 403, description),
  invalid: (details: ErrorDetails, description = 'Record validation errors') =>
    new AppError('RecordInvalid', 422, description, details),
  /** One field's 422, the most common shape. */
  field: (field: string, error: string, description: string) =>
    errors.invalid({ [field]: [{ error, description }] }),
  badRequest: (description: string, code = 'InvalidParameter') => new AppError(code, 400, description),
  missingParameter: (name: string) => new AppError('ParameterMissing', 400, `Missing parameter: ${name}`),
  pagination: (description: string) => new AppError('InvalidPaginationParameter', 400, description),
  tooManyJobs: () =>
    new AppError('TooManyJobs', 429, 'Number of allowed queued or running jobs for this account exceeded', undefined, {
      'retry-after': '30',
    }),
  rateLimited: (retryAfterSeconds: number) =>
    new AppError('TooManyRequests', 429, 'Rate limit exceeded', undefined, {
      'retry-after': String(retryAfterSeconds),
    }),
  unavailable: (description: string) => new AppError('ServiceUnavailable', 503, description),
} as const;

/** Postgres error codes we expect from constraint races; mapped instead of surfacing as 500s. */
interface PgError {
  code?: string;
  constraint?: string;
}

function fromFastifyError(error: FastifyError): AppError | undefined {
  if (error.validation) {
    const where = error.validationContext ?? 'request';
    const first = error.validation[0];
    const params = (first?.params ?? {}) as { missingProperty?: string };
    if (first?.keyword === 'required' && params.missingProperty && (first.instancePath ?? '') === '') {
      return errors.missingParameter(params.missingProperty);
    }
    if (where === 'body' && (first?.instancePath ?? '') === '' && first?.keyword === 'type') {
      return errors.badRequest('The request body must be a JSON object', 'ParameterMissing');
    }
    const path = first?.instancePath ? first.instancePath.replace(/^\//, '').replaceAll('/', '.') : '';
    const message = first?.message ?? 'is invalid';
    return errors.badRequest(`Invalid ${where}${path ? ` ${path}` : ''}: ${message}`);
  }
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return errors.badRequest('The request body is not valid JSON', 'InvalidJSON');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('PayloadTooLarge', 413, 'The request body is too large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('UnsupportedMediaType', 415, 'Send the body as application/json');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return errors.badRequest('The Content-Length header does not match the body');
    case 'FST_ERR_BAD_URL':
    case 'FST_ERR_ASYNC_CONSTRAINT':
      return errors.badRequest('The request URL is malformed');
    default:
      break;
  }
  if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
    return new AppError('BadRequest', error.statusCode, error.message);
  }
  return undefined;
}

function fromPgError(error: PgError): AppError | undefined {
  switch (error.code) {
    case '23505': // unique_violation: a concurrent writer won the race for the same value
      return errors.field(constraintField(error.constraint), 'DuplicateValue', 'has already been taken');
    case '23503': // foreign_key_violation: what the request refers to was deleted by a concurrent writer
      return errors.field('base', 'InvalidValue', 'refers to a record that no longer exists');
    case '22P02': // invalid_text_representation
    case '22003': // numeric_value_out_of_range
    case '22001': // string_data_right_truncation
    case '22021': // character_not_in_repertoire (e.g. NUL bytes)
    case '22P05': // untranslatable_character (a \u0000 in a jsonb value)
    case '54000': // program_limit_exceeded (e.g. an index row too large)
      return errors.badRequest('A value in the request is out of range or malformed');
    case '40001':
    case '40P01':
      return errors.unavailable('The request conflicted with another one; try again');
    default:
      return undefined;
  }
}

function constraintField(constraint: string | undefined): string {
  if (!constraint) return 'base';
  if (constraint.includes('external_id')) return 'external_id';
  if (constraint.includes('identities')) return 'value';
  if (constraint.includes('subdomain')) return 'subdomain';
  if (constraint.endsWith('_name')) return 'name'; // organizations_name, custom_roles_name
  return 'base';
}

export function toAppError(error: unknown): AppError | undefined {
  if (error instanceof AppError) return error;
  if (error && typeof error === 'object') {
    const fastifyError = error as FastifyError;
    if ('validation' in fastifyError || typeof fastifyError.code === 'string') {
      const mapped = fromFastifyError(fastifyError);
      if (mapped) return mapped;
    }
    return fromPgError(error as PgError);
  }
  return undefined;
}

export function sendError(reply: FastifyReply, error: AppError): FastifyReply {
  if (error.headers) reply.headers(error.headers);
  return reply.code(error.status).type('application/json; charset=utf-8').send(error.body());
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const appError = toAppError(error);
    if (appError) return sendError(reply, appError);
    // Unexpected: log the error class and stack only, never request bodies (they carry personal data).
    request.log.error({ err: { type: (error as Error)?.name, message: (error as Error)?.message, stack: (error as Error)?.stack } }, 'unhandled error');
    return reply.code(500).send({ error: 'InternalError', description: 'Something went wrong on our side' });
  });
  app.setNotFoundHandler((_request, reply) => sendError(reply, errors.invalidEndpoint()));
}
