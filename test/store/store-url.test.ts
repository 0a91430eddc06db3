import { describe, expect, it } from 'vitest';
import { StoreError } from '../../src/model/errors.js';
import { parseStoreUrl, redactStoreUrl, type StoreTarget } from '../../src/store/store-url.js';

describe('parseStoreUrl', () => {
  it.each<[string, StoreTarget]>([
    ['sqlite://./data/planet-digest.sqlite', { kind: 'sqlite', path: '/srv/app/data/planet-digest.sqlite' }],
    ['sqlite://data/x.sqlite', { kind: 'sqlite', path: '/srv/app/data/x.sqlite' }],
    ['sqlite://../shared/x.sqlite', { kind: 'sqlite', path: '/srv/shared/x.sqlite' }],
    ['sqlite:///var/lib/planet-digest/x.sqlite', { kind: 'sqlite', path: '/var/lib/planet-digest/x.sqlite' }],
    ['SQLite://./x.sqlite', { kind: 'sqlite', path: '/srv/app/x.sqlite' }],
    ['sqlite://:memory:', { kind: 'sqlite', path: ':memory:' }],
    ['redis://127.0.0.1:6379', { kind: 'redis', url: 'redis://127.0.0.1:6379' }],
    ['redis://:pw@cache.internal:6380/2', { kind: 'redis', url: 'redis://:pw@cache.internal:6380/2' }],
    ['rediss://user:pw@cache.example.net', { kind: 'redis', url: 'rediss://user:pw@cache.example.net' }],
    ['postgres://u:pw@db:5432/planet', { kind: 'postgres', url: 'postgres://u:pw@db:5432/planet' }],
    ['postgresql://u@db/planet?sslmode=require', { kind: 'postgres', url: 'postgresql://u@db/planet?sslmode=require' }],
    ['  redis://127.0.0.1  ', { kind: 'redis', url: 'redis://127.0.0.1' }],
  ])('maps %s', (url, expected) => {
    expect(parseStoreUrl(url, '/srv/app')).toEqual(expected);
  });

  it.each([
    ['mysql://u:pw@db/x', /unsupported scheme "mysql:"/],
    ['./data/x.sqlite', /has no scheme/],
    ['sqlite://', /has no file path/],
    ['redis://', /names no host/],
    ['postgres://u:pw@[broken/x', /not a valid URL/],
  ])('rejects %s with a StoreError listing the supported schemes', (url, message) => {
    let error: unknown;
    try {
      parseStoreUrl(url, '/srv/app');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).code).toBe('STORE_FAILED');
    expect((error as StoreError).message).toMatch(message);
    expect((error as StoreError).message).not.toContain('pw');
    expect((error as StoreError).hint).toMatch(/sqlite:\/\/.*redis:\/\/.*postgres:\/\//);
  });
});

describe('redactStoreUrl', () => {
  it.each([
    ['redis://:s3cret@127.0.0.1:6379/0', 'redis://:***@127.0.0.1:6379/0'],
    ['rediss://user:s3cret@cache:6380', 'rediss://user:***@cache:6380'],
    ['postgres://planet:s3cret@db:5432/planet', 'postgres://planet:***@db:5432/planet'],
    ['postgres://db/planet?user=u&password=s3cret', 'postgres://db/planet?user=u&password=***'],
    ['postgres://planet@db/planet', 'postgres://planet@db/planet'],
    ['sqlite://./data/x.sqlite', 'sqlite://./data/x.sqlite'],
    ['not a url u:s3cret@x', 'not a url u:s3cret@x'],
    ['//u:s3cret@host', '//***@host'],
  ])('%s -> %s', (url, expected) => {
    expect(redactStoreUrl(url)).toBe(expected);
  });
});
