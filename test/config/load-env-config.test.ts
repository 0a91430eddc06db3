import { describe, expect, it } from 'vitest';
import { loadEnvConfig } from '../../src/config/load-env-config.js';
import { ConfigError } from '../../src/model/errors.js';

describe('loadEnvConfig: DIGEST_FEED_PER_HOST', () => {
  it('defaults to 2 feeds per host at once, next to 16 in total', () => {
    const env = loadEnvConfig({});
    expect(env.fetch.perHost).toBe(2);
    expect(env.fetch.concurrency).toBe(16);
  });

  it.each([
    ['1', 1],
    ['16', 16],
    ['256', 256],
  ])('reads %j as %d', (value, expected) => {
    expect(loadEnvConfig({ DIGEST_FEED_PER_HOST: value }).fetch.perHost).toBe(expected);
  });

  it('treats an empty value as not set', () => {
    expect(loadEnvConfig({ DIGEST_FEED_PER_HOST: '' }).fetch.perHost).toBe(2);
  });

  it.each(['0', '-1', '2.5', 'many', '257'])('refuses %j, naming the variable', (value) => {
    let error: unknown;
    try {
      loadEnvConfig({ DIGEST_FEED_PER_HOST: value });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues.map((i) => i.path)).toEqual(['DIGEST_FEED_PER_HOST']);
  });
});
