import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import { createGuardedLookup, isPrivateAddress, PrivateAddressError } from '../../src/fetch/is-private-address.js';

describe('isPrivateAddress', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.255.0.9', true],
    ['10.0.0.1', true],
    ['172.16.5.4', true],
    ['172.31.255.255', true],
    ['172.32.0.1', false],
    ['192.168.1.1', true],
    ['169.254.169.254', true], // cloud metadata endpoint
    ['100.64.0.1', true], // CGNAT
    ['100.128.0.1', false],
    ['0.0.0.0', true],
    ['224.0.0.1', true], // multicast
    ['255.255.255.255', true],
    ['198.18.0.1', true],
    ['8.8.8.8', false],
    ['93.184.216.34', false],
    ['::1', true],
    ['::', true],
    ['fe80::1', true],
    ['fe80::1%eth0', true],
    ['fd12:3456::1', true], // unique local
    ['ff02::1', true], // multicast
    ['::ffff:127.0.0.1', true], // IPv4-mapped
    ['::ffff:7f00:1', true],
    ['::ffff:10.1.1.1', true],
    ['::ffff:8.8.8.8', false],
    ['64:ff9b::a9fe:a9fe', true], // NAT64 of 169.254.169.254
    ['2002:7f00:1::', true], // 6to4 of 127.0.0.1
    ['2001:db8::1', true], // documentation
    ['2606:4700:4700::1111', false],
    ['[::1]', true],
    ['not-an-ip', true],
  ])('%s -> %s', (address, expected) => {
    expect(isPrivateAddress(address)).toBe(expected);
  });
});

describe('createGuardedLookup', () => {
  function run(addresses: LookupAddress[], all: boolean): Promise<{ err: unknown; address: unknown; family: unknown }> {
    const lookup = createGuardedLookup((_host, _opts, cb) => cb(null, addresses));
    return new Promise((resolve) => lookup('feeds.example', { all }, (err, address, family) => resolve({ err, address, family })));
  }

  it('drops private addresses and keeps public ones (all: true, as happy eyeballs asks)', async () => {
    const result = await run(
      [
        { address: '127.0.0.1', family: 4 },
        { address: '93.184.216.34', family: 4 },
        { address: 'fd00::1', family: 6 },
      ],
      true,
    );
    expect(result.err).toBeNull();
    expect(result.address).toEqual([{ address: '93.184.216.34', family: 4 }]);
  });

  it('answers with the first public address when a single one is asked for', async () => {
    const result = await run(
      [
        { address: '10.0.0.1', family: 4 },
        { address: '2606:4700:4700::1111', family: 6 },
      ],
      false,
    );
    expect(result).toEqual({ err: null, address: '2606:4700:4700::1111', family: 6 });
  });

  it('fails with PrivateAddressError when nothing public is left', async () => {
    const result = await run([{ address: '169.254.169.254', family: 4 }], true);
    expect(result.err).toBeInstanceOf(PrivateAddressError);
    expect((result.err as PrivateAddressError).code).toBe('ERR_PRIVATE_ADDRESS');
    expect((result.err as Error).message).toBe('feeds.example resolves to the non-public address 169.254.169.254');
  });

  it('passes resolver errors through', async () => {
    const lookup = createGuardedLookup((_host, _opts, cb) => cb(Object.assign(new Error('nx'), { code: 'ENOTFOUND' }), []));
    const err = await new Promise((resolve) => lookup('nx.example', { all: true }, (e) => resolve(e)));
    expect(err).toMatchObject({ code: 'ENOTFOUND' });
  });
});
