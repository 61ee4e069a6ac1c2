import type { WaitOptions } from '../util/Waiters.js';
import { Waiters } from '../util/Waiters.js';

/** A file part of a multipart request. */
export interface RecordedFile {
  /** The form field, e.g. `files[0]`. */
  readonly field: string;
  readonly filename: string;
  readonly contentType: string;
  readonly size: number;
}

/** One REST call the simulator received, whatever its outcome. */
export interface RecordedRequest {
  /** 1, 2, 3, ... in arrival order. */
  readonly id: number;
  /** Unix ms when the request arrived. */
  readonly time: number;
  readonly method: string;
  /** The path after the API prefix and version, e.g. `/channels/123/messages`. */
  readonly path: string;
  /** The route template that matched, e.g. `/channels/:channel_id/messages`; `null` for an unknown route. */
  readonly route: string | null;
  /** Values of the template's parameters. */
  readonly params: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  /** Request headers, lower-cased. */
  readonly headers: Readonly<Record<string, string>>;
  /** The JSON body (for multipart, the parsed `payload_json`); `undefined` when there was none. */
  readonly body: unknown;
  readonly files: readonly RecordedFile[];
  /** The `X-Audit-Log-Reason`, decoded. */
  readonly reason: string | null;
  /** The status the simulator answered with. */
  readonly status: number;
  /** The JSON the simulator answered with; `undefined` for a 204. */
  readonly response: unknown;
}

/** Every REST call received (the most recent `max` are kept), with waits on future ones. */
export class RequestLog {
  readonly #records: RecordedRequest[] = [];
  readonly #waiters = new Waiters<RecordedRequest>();
  readonly #max: number;
  #nextId = 0;

  constructor(max: number) {
    this.#max = max;
  }

  /** The kept requests, oldest first. */
  get records(): readonly RecordedRequest[] {
    return this.#records;
  }

  /** How many requests arrived since the simulator started (kept or not). */
  get total(): number {
    return this.#nextId;
  }

  add(record: Omit<RecordedRequest, 'id'>): RecordedRequest {
    const full: RecordedRequest = { id: ++this.#nextId, ...record };
    this.#records.push(full);
    // Trim in batches so recording stays O(1) amortized under load.
    if (this.#records.length > this.#max + Math.max(16, this.#max >> 3))
      this.#records.splice(0, this.#records.length - this.#max);
    this.#waiters.notify(full);
    return full;
  }

  /** Rejects pending waits (the simulator closed). */
  rejectWaits(error: Error): void {
    this.#waiters.rejectAll(error);
  }

  clear(): void {
    this.#records.length = 0;
  }

  wait(predicate: (request: RecordedRequest) => boolean, options: WaitOptions = {}): Promise<RecordedRequest> {
    return this.#waiters.wait(predicate, options, 'a matching REST request', this.#records);
  }
}
