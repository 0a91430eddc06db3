import { readFileSync } from 'node:fs';
import { decodeFeedBytes } from '../../../src/fetch/decode-feed-bytes.ts';
const d = decodeFeedBytes(readFileSync(process.argv[2]));
console.log(d.encoding, d.mismatch, JSON.stringify(d.text.slice(-80)));
