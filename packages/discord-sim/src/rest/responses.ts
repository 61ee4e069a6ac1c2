/** What a route handler answers: a status and, unless 204, a JSON body. */
export class RouteResult {
  readonly status: number;
  readonly body: unknown;

  constructor(status: number, body?: unknown) {
    this.status = status;
    this.body = body;
  }
}

/** Discord's JSON error codes used by the simulator. */
export const ApiErrorCode = {
  General: 0,
  UnknownApplication: 10002,
  UnknownChannel: 10003,
  UnknownGuild: 10004,
  UnknownMember: 10007,
  UnknownMessage: 10008,
  UnknownRole: 10011,
  UnknownUser: 10013,
  UnknownWebhook: 10015,
  UnknownBan: 10026,
  UnknownInteraction: 10062,
  UnknownApplicationCommand: 10063,
  InteractionAlreadyAcknowledged: 40060,
  MissingAccess: 50001,
  CannotEditOtherUsersMessage: 50005,
  CannotSendEmptyMessage: 50006,
  CannotSendInNonTextChannel: 50008,
  MissingPermissions: 50013,
  InvalidBulkDeleteCount: 50016,
  BulkDeleteTooOld: 50034,
  InvalidFormBody: 50035,
  InvalidApiVersion: 50041,
  InvalidJson: 50109,
  FailedToBanUsers: 500000,
} as const;

export function ok(body: unknown, status = 200): RouteResult {
  return new RouteResult(status, body);
}

export function noContent(): RouteResult {
  return new RouteResult(204);
}

/** A Discord JSON error: `{ message, code }`, plus `errors` for form errors. */
export function apiError(status: number, code: number, message: string, errors?: unknown): RouteResult {
  return new RouteResult(status, errors === undefined ? { message, code } : { message, code, errors });
}

/** A 400 Invalid Form Body naming the offending field, shaped like Discord's. */
export function formError(field: string, code: string, message: string): RouteResult {
  const errors: Record<string, unknown> = {};
  let cursor = errors;
  const parts = field.split('.');
  for (const [index, part] of parts.entries()) {
    if (index === parts.length - 1) {
      cursor[part] = { _errors: [{ code, message }] };
    } else {
      const next: Record<string, unknown> = {};
      cursor[part] = next;
      cursor = next;
    }
  }
  return apiError(400, ApiErrorCode.InvalidFormBody, 'Invalid Form Body', errors);
}

export function unknown(
  what:
    | 'Application'
    | 'Channel'
    | 'Guild'
    | 'Member'
    | 'Message'
    | 'Role'
    | 'User'
    | 'Webhook'
    | 'Ban'
    | 'interaction'
    | 'application command',
): RouteResult {
  const codes = {
    Application: ApiErrorCode.UnknownApplication,
    Channel: ApiErrorCode.UnknownChannel,
    Guild: ApiErrorCode.UnknownGuild,
    Member: ApiErrorCode.UnknownMember,
    Message: ApiErrorCode.UnknownMessage,
    Role: ApiErrorCode.UnknownRole,
    User: ApiErrorCode.UnknownUser,
    Webhook: ApiErrorCode.UnknownWebhook,
    Ban: ApiErrorCode.UnknownBan,
    interaction: ApiErrorCode.UnknownInteraction,
    'application command': ApiErrorCode.UnknownApplicationCommand,
  } as const;
  return apiError(404, codes[what], `Unknown ${what}`);
}

export function missingPermissions(): RouteResult {
  return apiError(403, ApiErrorCode.MissingPermissions, 'Missing Permissions');
}
