import { Type } from 'typebox';
import type { App, Services } from '../../app.ts';
import { errorResponses, Nullable } from '../../http/schemas.ts';
import { requireUser } from '../../http/urls.ts';
import type { PiiType } from './detect-pii.ts';
import { parseDefaultCountry, parseMinConfidence, redactionSuggestions } from './redaction-suggestions.ts';

const Params = Type.Object({ ticket_id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }) }, { additionalProperties: false });
const Query = Type.Object(
  {
    default_country: Type.Optional(Type.String({ description: "Country for phone numbers written without +prefix (ISO 3166-1 alpha-2); default: the requester's locale region, else US" })),
    min_confidence: Type.Optional(Type.String({ description: 'Leave out findings below this confidence (0 to 1; default 0)' })),
  },
  { additionalProperties: true },
);

const PII_TYPES: readonly PiiType[] = ['email', 'phone', 'credit_card', 'iban', 'ipv4', 'ipv6', 'br_cpf', 'cn_resident_id', 'us_ssn', 'identity', 'person_name'];

const Suggestion = Type.Object({
  start: Type.Integer({ minimum: 0, description: "UTF-16 offset into the comment's plain_body" }),
  end: Type.Integer({ minimum: 0, description: 'UTF-16 offset (exclusive)' }),
  type: Type.Unsafe<PiiType>({ type: 'string', enum: [...PII_TYPES] }),
  confidence: Type.Number({ minimum: 0, maximum: 1 }),
  text: Type.String({ description: 'plain_body.slice(start, end): send as {"text": …} to PUT /api/v2/tickets/{ticket_id}/comments/{id}/redact' }),
  user_id: Type.Optional(Type.Integer({ description: 'identity and person_name: whose value it is' })),
  identity_type: Type.Optional(Type.String({ description: 'identity: the identity type (email, phone_number, twitter, …)' })),
});

const CommentSuggestions = Type.Object({
  comment_id: Type.Integer(),
  public: Type.Boolean(),
  suggestions: Type.Array(Suggestion),
  comment_redaction: Nullable(
    Type.Object(
      { ticket_id: Type.Integer(), html_body: Type.String() },
      { description: 'The comment html_body with every finding in <redact> tags: the body of PUT /api/v2/comment_redactions/{comment_id}' },
    ),
  ),
});

const SuggestionsResponse = Type.Object({
  redaction_suggestions: Type.Array(CommentSuggestions),
  ticket_id: Type.Integer(),
  offsets: Type.Literal('plain_body', { description: 'Which body start/end index' }),
  default_country: Nullable(Type.String()),
});

export async function redactionSuggestionsRoutes(app: App, { database }: Services): Promise<void> {
  app.get('/api/v2/tickets/:ticket_id/redaction_suggestions', {
    schema: {
      tags: ['Ticket Comments'],
      summary: "PII found in each comment (emails, phones, cards, IBANs, IPs, CPFs, Chinese IDs, SSNs, the ticket's people's identities and requester's name), ready for the redaction endpoints (staff who can see the ticket)",
      params: Params,
      querystring: Query,
      response: { 200: SuggestionsResponse, ...errorResponses },
    },
  }, async (request) => {
    const actor = requireUser(request);
    const query = request.query as Record<string, unknown>;
    const options = { country: parseDefaultCountry(query.default_country), minConfidence: parseMinConfidence(query.min_confidence) };
    const result = await redactionSuggestions(database.db, request.ctx.account, actor, request.params.ticket_id, options);
    return { redaction_suggestions: result.comments, ticket_id: result.ticket_id, offsets: 'plain_body' as const, default_country: result.default_country };
  });
}
