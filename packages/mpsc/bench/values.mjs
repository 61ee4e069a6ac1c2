// Values the benchmark sends, shared by bench/index.ts and bench/worker.mjs.

/** A ~1 KB JSON-like object (a chat message as a gateway would deliver it). */
export function message(i) {
  return {
    id: String(1_000_000_000_000_000n + BigInt(i)),
    channel_id: '123456789012345678',
    guild_id: '987654321098765432',
    author: {
      id: '111111111111111111',
      username: `user${i % 100}`,
      discriminator: '0001',
      avatar: 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6',
      bot: false,
    },
    content:
      'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua.',
    timestamp: '2024-05-01T12:34:56.789000+00:00',
    edited_timestamp: null,
    tts: false,
    mention_everyone: false,
    mentions: [{ id: '222222222222222222', username: 'someone', discriminator: '0002' }],
    mention_roles: ['333333333333333333'],
    attachments: [
      {
        id: '444444444444444444',
        filename: 'image.png',
        size: 12345,
        url: 'https://cdn.example.com/attachments/444444444444444444/image.png',
        width: 640,
        height: 480,
      },
    ],
    embeds: [],
    reactions: [{ count: 3, me: false, emoji: { id: null, name: 'thumbsup' } }],
    pinned: false,
    type: 0,
    flags: 0,
    sequence: i,
  };
}

/** Builds `count` values of `kind` up front, so the loops measure the channel only. */
export function makeValues(kind, count, offset = 0) {
  const values = new Array(count);
  for (let i = 0; i < count; i++) {
    const n = offset + i;
    values[i] = kind === 'number' ? n : kind === 'string' ? `msg-${n}` : message(n);
  }
  return values;
}
