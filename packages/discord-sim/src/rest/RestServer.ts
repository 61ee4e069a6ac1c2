import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimEngine } from '../sim/SimEngine.js';
import type { RateLimiter } from './RateLimiter.js';
import type { RecordedFile, RequestLog } from './RequestLog.js';
import { apiError, ApiErrorCode, RouteResult } from './responses.js';
import type { RouteContext, RouteDefinition, Upload } from './context.js';
import { ROUTES } from './routes.js';

/** Bodies larger than this are refused with 413, as Discord refuses uploads over its limit. */
const MAX_BODY_BYTES = 25 * 1024 * 1024;
const NOT_FOUND = { message: '404: Not Found', code: 0 };
const METHOD_NOT_ALLOWED = { message: '405: Method Not Allowed', code: 0 };
const UNAUTHORIZED = { message: '401: Unauthorized', code: 0 };
const EMPTY: Readonly<Record<string, string>> = Object.freeze({});

interface CompiledRoute {
  readonly definition: RouteDefinition;
  /** A literal segment, or `null` for a parameter (its name is in `names` at the same index). */
  readonly literals: readonly (string | null)[];
  readonly names: readonly (string | null)[];
}

interface ParsedBody {
  body: unknown;
  files: RecordedFile[];
  uploads: Upload[];
  invalid: boolean;
}

function compile(definition: RouteDefinition): CompiledRoute {
  const segments = definition.route.split('/').slice(1);
  return {
    definition,
    literals: segments.map((segment) => (segment.startsWith(':') ? null : segment)),
    names: segments.map((segment) => (segment.startsWith(':') ? segment.slice(1) : null)),
  };
}

function match(route: CompiledRoute, segments: readonly string[]): Record<string, string> | null {
  if (route.literals.length !== segments.length) return null;
  let params: Record<string, string> | null = null;
  for (let i = 0; i < segments.length; i++) {
    const literal = route.literals[i];
    const segment = segments[i] as string;
    if (literal === null) {
      if (segment === '') return null;
      params ??= {};
      params[route.names[i] as string] = segment;
    } else if (literal !== segment) {
      return null;
    }
  }
  return params ?? {};
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Options of {@link RestServer}. */
export interface RestServerOptions {
  engine: SimEngine;
  token: string;
  log: RequestLog;
  rateLimiter: RateLimiter;
  gateway: RouteContext['gateway'];
}

/**
 * The REST API (`/api/v10/...`): routes a request, checks `Authorization: Bot <token>`, applies
 * rate limits, runs the handler and records the exchange.
 */
export class RestServer {
  readonly #options: RestServerOptions;
  readonly #routes = ROUTES.map(compile);
  readonly #authorization: string;

  constructor(options: RestServerOptions) {
    this.#options = options;
    this.#authorization = `Bot ${options.token}`;
  }

  /** Handles one HTTP request (the `request` listener of the simulator's server). */
  handle(request: IncomingMessage, response: ServerResponse): void {
    const time = Date.now();
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    request.on('end', () => {
      this.#process(request, response, time, tooLarge ? null : Buffer.concat(chunks)).catch((error: unknown) => {
        // A defect in a handler: answer 500 rather than leave the client hanging.
        if (!response.headersSent)
          this.#send(response, 500, { message: '500: Internal Server Error', code: 0, error: String(error) }, EMPTY);
      });
    });
    request.on('error', () => response.destroy());
  }

  async #process(request: IncomingMessage, response: ServerResponse, time: number, raw: Buffer | null): Promise<void> {
    const method = (request.method ?? 'GET').toUpperCase();
    const url = new URL(request.url ?? '/', 'http://localhost');
    const query = Object.fromEntries(url.searchParams);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    const reasonHeader = headers['x-audit-log-reason'];
    const reason = reasonHeader === undefined ? null : decodeSegment(reasonHeader);
    let path = url.pathname;
    let route: CompiledRoute | null = null;
    let params: Record<string, string> = EMPTY;
    let parsed: ParsedBody = { body: undefined, files: [], uploads: [], invalid: false };
    let result: RouteResult;
    let extraHeaders: Record<string, string> = EMPTY;

    const finish = (): void => {
      this.#send(response, result.status, result.body, extraHeaders);
      this.#options.log.add({
        time,
        method,
        path,
        route: route?.definition.route ?? null,
        params,
        query,
        headers,
        body: parsed.body,
        files: parsed.files,
        reason,
        status: result.status,
        response: result.body,
      });
    };

    if (method === 'GET' && path.startsWith('/attachments/')) {
      // The simulator's CDN: the files bots uploaded, at the URLs their messages carry.
      const [, , , id] = path.split('/');
      const file = id === undefined ? undefined : this.#options.engine.world.attachments.get(id);
      if (file) {
        response.writeHead(200, { 'content-type': file.contentType, 'content-length': String(file.data.length) });
        response.end(file.data);
      } else {
        this.#send(response, 404, NOT_FOUND, EMPTY);
      }
      return;
    }
    const versioned = /^\/api(?:\/v(\d+))?(\/.*)?$/.exec(path);
    if (!versioned) {
      result = new RouteResult(404, NOT_FOUND);
      finish();
      return;
    }
    path = versioned[2] ?? '/';
    if (versioned[1] !== undefined && versioned[1] !== '10' && versioned[1] !== '9') {
      result = apiError(400, ApiErrorCode.InvalidApiVersion, 'Invalid API version');
      finish();
      return;
    }
    if (raw === null) {
      result = new RouteResult(413, { message: 'Request entity too large', code: 40005 });
      finish();
      return;
    }

    parsed = await this.#parseBody(raw, headers['content-type']);
    const segments = path.replace(/\/+$/, '').split('/').slice(1).map(decodeSegment);
    let pathMatched = false;
    for (const candidate of this.#routes) {
      const candidateParams = match(candidate, segments);
      if (candidateParams === null) continue;
      pathMatched = true;
      if (candidate.definition.method === method) {
        route = candidate;
        params = candidateParams;
        break;
      }
    }
    if (route === null) {
      result = new RouteResult(pathMatched ? 405 : 404, pathMatched ? METHOD_NOT_ALLOWED : NOT_FOUND);
      finish();
      return;
    }

    if (route.definition.auth && headers.authorization !== this.#authorization) {
      result = new RouteResult(401, UNAUTHORIZED);
      finish();
      return;
    }
    if (parsed.invalid) {
      result = apiError(400, ApiErrorCode.InvalidJson, 'The request body contains invalid JSON.');
      finish();
      return;
    }

    const definition = route.definition;
    const now = Date.now();
    if (!definition.route.startsWith('/interactions/')) {
      const major =
        params.channel_id ??
        params.guild_id ??
        (params.webhook_id === undefined ? 'global' : `${params.webhook_id}/${params.webhook_token ?? ''}`);
      // Interaction responses are not bound by the global limit: the follow-ups and edits through
      // the application's own webhook (the callbacks are not limited at all, above).
      const interactionWebhook =
        params.webhook_id !== undefined && params.webhook_id === this.#options.engine.world.applicationId;
      const verdict = this.#options.rateLimiter.check({ method, path, route: definition.route, params }, major, now, {
        global: !interactionWebhook,
      });
      extraHeaders = verdict.headers;
      if (verdict.limited) {
        result = new RouteResult(429, verdict.body);
        finish();
        return;
      }
    }

    const context: RouteContext = {
      method,
      params,
      query: url.searchParams,
      body: parsed.body,
      uploads: parsed.uploads,
      reason,
      now,
      engine: this.#options.engine,
      gateway: this.#options.gateway,
    };
    try {
      result = definition.handle(context);
    } catch (error) {
      // A defect in a handler: answer (and record) a 500 rather than leave the client hanging.
      result = new RouteResult(500, { message: '500: Internal Server Error', code: 0, error: String(error) });
    }
    finish();
  }

  async #parseBody(raw: Buffer, contentType: string | undefined): Promise<ParsedBody> {
    if (raw.length === 0) return { body: undefined, files: [], uploads: [], invalid: false };
    const type = contentType?.split(';')[0]?.trim().toLowerCase();
    if (type === 'multipart/form-data') {
      try {
        const form = await new Response(raw, { headers: { 'content-type': contentType as string } }).formData();
        const files: RecordedFile[] = [];
        const uploads: Upload[] = [];
        const fields: Record<string, string> = {};
        let body: unknown;
        for (const [field, value] of form.entries()) {
          if (typeof value === 'string') {
            if (field === 'payload_json') body = JSON.parse(value);
            else fields[field] = value;
          } else {
            files.push({ field, filename: value.name, contentType: value.type, size: value.size });
            uploads.push({
              field,
              filename: value.name,
              contentType: value.type,
              data: Buffer.from(await value.arrayBuffer()),
            });
          }
        }
        return { body: body ?? fields, files, uploads, invalid: false };
      } catch {
        return { body: raw.toString('utf8'), files: [], uploads: [], invalid: true };
      }
    }
    const text = raw.toString('utf8');
    try {
      return { body: JSON.parse(text), files: [], uploads: [], invalid: false };
    } catch {
      return { body: text, files: [], uploads: [], invalid: true };
    }
  }

  #send(response: ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>>): void {
    if (status === 204 || body === undefined) {
      response.writeHead(status, headers);
      response.end();
      return;
    }
    const json = JSON.stringify(body);
    response.writeHead(status, {
      ...headers,
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(json)),
    });
    response.end(json);
  }
}
