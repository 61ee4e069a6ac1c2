import { describe, expect, it } from 'vitest';
import {
  BannedWords,
  CONFIG_LIMITS,
  DEFAULT_CONFIG,
  normalizeConfig,
  normalizeWord,
  SpamDetector,
} from '../../src/index.js';

describe('SpamDetector', () => {
  const limits = { maxMessages: 3, windowMs: 1000 };

  it('fires on the maxMessages-th message inside the window, then starts counting afresh', () => {
    const spam = new SpamDetector();
    expect([0, 100, 200].map((t) => spam.hit('u', t, limits))).toEqual([false, false, true]);
    expect(spam.tracked).toBe(0);
    expect([300, 400].map((t) => spam.hit('u', t, limits))).toEqual([false, false]);
    expect(spam.hit('u', 500, limits)).toBe(true);
  });

  it('slides: messages older than the window no longer count', () => {
    const spam = new SpamDetector();
    expect(spam.hit('u', 0, limits)).toBe(false);
    expect(spam.hit('u', 600, limits)).toBe(false);
    // 1000 ms after the first message it has left the window.
    expect(spam.hit('u', 1000, limits)).toBe(false);
    expect(spam.hit('u', 1100, limits)).toBe(true);
  });

  it('counts each member on their own', () => {
    const spam = new SpamDetector();
    expect(spam.hit('a', 0, limits)).toBe(false);
    expect(spam.hit('b', 1, limits)).toBe(false);
    expect(spam.hit('a', 2, limits)).toBe(false);
    expect(spam.hit('b', 3, limits)).toBe(false);
    expect(spam.tracked).toBe(2);
    expect(spam.hit('a', 4, limits)).toBe(true);
    expect(spam.tracked).toBe(1);
  });

  it('forgets a member, and sweeps quiet members once per window', () => {
    const spam = new SpamDetector();
    spam.hit('a', 0, limits);
    spam.hit('b', 0, limits);
    spam.forget('a');
    expect(spam.tracked).toBe(1);
    expect(spam.hit('a', 1, limits)).toBe(false);
    // Later than a window after b's last message: the sweep drops b, a stays (just posted).
    spam.hit('a', 5000, limits);
    expect(spam.tracked).toBe(1);
  });
});

describe('BannedWords', () => {
  it('finds whole words in any case, and phrases across any whitespace', () => {
    const words = new BannedWords(['spoiler', 'free nitro']);
    expect(words.find('no SPOILERS here')).toBeUndefined();
    expect(words.find('big Spoiler: he dies')).toBe('spoiler');
    expect(words.find('get FREE \n  nitro now')).toBe('free nitro');
    expect(words.find('freenitro')).toBeUndefined();
    expect(words.find('')).toBeUndefined();
  });

  it('does not match inside longer words, letters of any script or digits', () => {
    const words = new BannedWords(['ass']);
    expect(words.find('class')).toBeUndefined();
    expect(words.find('assess')).toBeUndefined();
    expect(words.find('ass1')).toBeUndefined();
    expect(words.find('żass')).toBeUndefined();
    expect(words.find('you ass!')).toBe('ass');
  });

  it('treats regular expression characters as plain text', () => {
    const words = new BannedWords(['c++', 'a.b']);
    expect(words.find('I love c++ a lot')).toBe('c++');
    expect(words.find('axb')).toBeUndefined();
    expect(words.find('see a.b')).toBe('a.b');
  });

  it('matches nothing without words', () => {
    expect(new BannedWords([]).find('anything at all')).toBeUndefined();
  });
});

describe('guild configuration', () => {
  it('normalizes words: trimmed, single spaces, lower case, 1 to 64 characters', () => {
    expect(normalizeWord('  Free   NITRO ')).toBe('free nitro');
    expect(normalizeWord('   ')).toBeUndefined();
    expect(normalizeWord('x'.repeat(CONFIG_LIMITS.wordLength))).toHaveLength(CONFIG_LIMITS.wordLength);
    expect(normalizeWord('x'.repeat(CONFIG_LIMITS.wordLength + 1))).toBeUndefined();
  });

  it('reads nothing stored as the defaults', () => {
    expect(normalizeConfig(undefined)).toEqual(DEFAULT_CONFIG);
    expect(normalizeConfig('garbage')).toEqual(DEFAULT_CONFIG);
  });

  it('keeps valid stored fields, drops unknown ones, clamps numbers and defaults the invalid', () => {
    const config = normalizeConfig({
      bannedWords: ['Spoiler', 'spoiler', 7, '', 'ok'],
      spam: { maxMessages: 1, windowMs: 10_000, timeoutMs: 'long', banAfterTimeouts: 1_000 },
      welcome: { enabled: false, channelId: 'not-a-snowflake', message: '   ', roleId: '123' },
      extra: true,
    });
    expect(config).toEqual({
      bannedWords: ['spoiler', 'ok'],
      spam: {
        maxMessages: CONFIG_LIMITS.maxMessages.min,
        windowMs: 10_000,
        timeoutMs: DEFAULT_CONFIG.spam.timeoutMs,
        banAfterTimeouts: CONFIG_LIMITS.banAfterTimeouts.max,
      },
      welcome: { enabled: false, channelId: null, message: DEFAULT_CONFIG.welcome.message, roleId: '123' },
    });
  });

  it('keeps at most CONFIG_LIMITS.bannedWords words', () => {
    const words = Array.from({ length: CONFIG_LIMITS.bannedWords + 5 }, (_, i) => `w${i}`);
    expect(normalizeConfig({ bannedWords: words }).bannedWords).toHaveLength(CONFIG_LIMITS.bannedWords);
  });
});
