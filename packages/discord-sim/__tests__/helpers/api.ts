import type { DiscordSim } from '../../src/index.js';

/** What {@link api} returns. */
export interface ApiResponse {
  status: number;
  headers: Headers;
  body: any;
}

/** Options of {@link api}. */
export interface ApiOptions {
  body?: unknown;
  /** `Authorization` header value; `null` sends none. @default `Bot ${sim.token}` */
  auth?: string | null;
  headers?: Record<string, string>;
  /** Path prefix. @default '/api/v10' */
  prefix?: string;
}

/** Calls the simulator's REST API with fetch (undici), as a bot would. */
export async function api(
  sim: DiscordSim,
  method: string,
  path: string,
  options: ApiOptions = {},
): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...options.headers };
  const auth = options.auth === undefined ? `Bot ${sim.token}` : options.auth;
  if (auth !== null) headers.authorization = auth;
  let body: string | FormData | undefined;
  if (options.body instanceof FormData) {
    body = options.body;
  } else if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const origin = sim.apiBase.replace(/\/api$/, '');
  const response = await fetch(`${origin}${options.prefix ?? '/api/v10'}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text === '' ? undefined : JSON.parse(text) };
}
