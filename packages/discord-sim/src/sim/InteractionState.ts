import type { WaitOptions } from '../util/Waiters.js';
import { Waiters } from '../util/Waiters.js';
import type { ApiMessage } from '../world/types.js';

/** How a bot answered an interaction. */
export type InteractionResponseKind =
  'callback' | 'followup' | 'fetchOriginal' | 'editOriginal' | 'deleteOriginal' | 'editFollowup' | 'deleteFollowup';

/** One answer of the bot to an interaction: the callback, or a webhook call on its token. */
export interface InteractionResponseRecord {
  readonly kind: InteractionResponseKind;
  /** The callback type (4 message, 5 deferred, 6 deferred update, 7 update, 8 autocomplete, 9 modal) for `callback`; `null` otherwise. */
  readonly type: number | null;
  /** The request body as the bot sent it (for a callback, its `data`). */
  readonly data: unknown;
  /** The message created or edited, if any. */
  readonly message: ApiMessage | null;
  /** Unix ms. */
  readonly time: number;
}

/** Discord's interaction types. */
export const InteractionType = {
  Ping: 1,
  ApplicationCommand: 2,
  MessageComponent: 3,
  ApplicationCommandAutocomplete: 4,
  ModalSubmit: 5,
} as const;

/** An interaction the simulator sent, and what the bot answered. */
export interface SimInteraction {
  readonly id: string;
  readonly token: string;
  /** The interaction type: 2 slash command, 3 component, 4 autocomplete, 5 modal submit. */
  readonly type: number;
  /** For a component interaction (and a modal submitted from one): the message the component is on. */
  readonly message: ApiMessage | null;
  /** The modal the bot answered with (callback type 9), once it did; submit it with `sim.emit.submitModal()`. */
  readonly modal: Readonly<Record<string, unknown>> | null;
  /** The `d` of the `INTERACTION_CREATE` dispatch. */
  readonly payload: Readonly<Record<string, unknown>>;
  readonly guildId: string | null;
  readonly channelId: string;
  readonly userId: string;
  /** Unix ms when it was sent. */
  readonly createdAt: number;
  /** Whether the callback arrived. */
  readonly acknowledged: boolean;
  readonly responses: readonly InteractionResponseRecord[];
  /** The original response message (after a message callback or an edit of a deferred one). */
  readonly original: ApiMessage | null;
  /**
   * Resolves with the first response of `kind` (default `callback`), already received or not.
   *
   * @example
   * ```ts
   * const interaction = sim.emit.interaction({ command: 'ping' });
   * const { data } = await interaction.waitForResponse();
   * expect(data).toMatchObject({ content: 'pong' });
   * ```
   */
  waitForResponse(options?: WaitOptions & { kind?: InteractionResponseKind }): Promise<InteractionResponseRecord>;
}

/** The simulator's record of an interaction; {@link SimInteraction} is its public face. */
export class InteractionState implements SimInteraction {
  readonly id: string;
  readonly token: string;
  readonly type: number;
  readonly message: ApiMessage | null;
  modal: Record<string, unknown> | null = null;
  readonly payload: Record<string, unknown>;
  readonly guildId: string | null;
  readonly channelId: string;
  readonly userId: string;
  readonly createdAt = Date.now();
  callbackAt: number | null = null;
  original: ApiMessage | null = null;
  readonly followups = new Map<string, ApiMessage>();
  readonly responses: InteractionResponseRecord[] = [];
  readonly #waiters = new Waiters<InteractionResponseRecord>();

  constructor(
    id: string,
    token: string,
    payload: Record<string, unknown>,
    guildId: string | null,
    channelId: string,
    userId: string,
    message: ApiMessage | null = null,
  ) {
    this.type = typeof payload.type === 'number' ? payload.type : InteractionType.ApplicationCommand;
    this.message = message;
    this.id = id;
    this.token = token;
    this.payload = payload;
    this.guildId = guildId;
    this.channelId = channelId;
    this.userId = userId;
  }

  get acknowledged(): boolean {
    return this.callbackAt !== null;
  }

  record(response: InteractionResponseRecord): void {
    this.responses.push(response);
    this.#waiters.notify(response);
  }

  waitForResponse(options: WaitOptions & { kind?: InteractionResponseKind } = {}): Promise<InteractionResponseRecord> {
    const kind = options.kind ?? 'callback';
    return this.#waiters.wait(
      (response) => response.kind === kind,
      options,
      `a ${kind} response to interaction ${this.id}`,
      this.responses,
    );
  }
}
