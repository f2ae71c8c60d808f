// The console's in-browser ledger checks (api/console/js/verify.js), run in Node, which has the
// same WebCrypto: a checkpoint signed by a key whose base64 holds '+' verifies and a changed
// one does not; an RFC 9162 inclusion proof leads to the root for every leaf of odd-sized trees
// and a changed proof does not; leaf fields and fen read as the format says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ed from '../../api/console/vendor/noble-ed25519.js';
import {
  parseVerifierKey, verifyCheckpoint, rootFromInclusion, leafHash, sha256, leafFields, fenOf, unitsOf, microsOf, hex,
} from '../../api/console/js/verify.js';

const enc = new TextEncoder();
const b64 = (u) => Buffer.from(u).toString('base64');
const cat = (...p) => Uint8Array.from(Buffer.concat(p.map((x) => Buffer.from(x))));

async function signer(name) {
  for (;;) {
    const sk = ed.utils.randomSecretKey();
    const pub = await ed.getPublicKeyAsync(sk);
    const raw = cat([1], pub);
    if (!b64(raw).includes('+')) continue;
    const id = (await sha256(cat(enc.encode(`${name}\n`), raw))).slice(0, 4);
    const sign = async (body) => `${body}\n\u2014 ${name} ${b64(cat(id, await ed.signAsync(enc.encode(body), sk)))}\n`;
    return { key: `${name}+${hex(id)}+${b64(raw)}`, sign };
  }
}

test('a signed checkpoint verifies with its key and fails once changed', async () => {
  const name = 'assist-market.local/ledger';
  const s = await signer(name);
  const key = await parseVerifierKey(s.key);
  const body = `${name}\n5\n${b64(new Uint8Array(32).fill(7))}\n`;
  const note = await s.sign(body);
  const cp = await verifyCheckpoint(note, key);
  assert.equal(cp.size, 5);
  await assert.rejects(verifyCheckpoint(note.replace('\n5\n', '\n6\n'), key), /bad signature/);
  const other = await parseVerifierKey((await signer(name)).key);
  await assert.rejects(verifyCheckpoint(note, other), /no signature by the verifier key/);
  await assert.rejects(parseVerifierKey(s.key.replace(/\+[0-9a-f]{8}\+/, '+00000000+')), /key id/);
});

async function mth(leaves) {
  if (leaves.length === 1) return leaves[0];
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return sha256(cat([1], await mth(leaves.slice(0, k)), await mth(leaves.slice(k))));
}
async function path(m, leaves) {
  if (leaves.length === 1) return [];
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return m < k
    ? [...await path(m, leaves.slice(0, k)), await mth(leaves.slice(k))]
    : [...await path(m - k, leaves.slice(k)), await mth(leaves.slice(0, k))];
}

test('inclusion proofs lead to the root, and a changed proof does not', async () => {
  for (const n of [1, 2, 3, 5, 7, 8, 11]) {
    const leaves = await Promise.all(Array.from({ length: n }, (_, i) => leafHash(enc.encode(`leaf ${i}`))));
    const root = await mth(leaves);
    for (let i = 0; i < n; i++) {
      const p = await path(i, leaves);
      assert.equal(hex(await rootFromInclusion(i, n, leaves[i], p)), hex(root), `${i} of ${n}`);
      if (p.length) {
        const bad = p.map((h, j) => (j === 0 ? h.map((x, k) => (k === 0 ? x ^ 1 : x)) : h));
        assert.notEqual(hex((await rootFromInclusion(i, n, leaves[i], bad)) || []), hex(root));
      }
      const other = leaves[(i + 1) % n];
      if (n > 1) assert.notEqual(hex((await rootFromInclusion(i, n, other, p)) || []), hex(root));
    }
  }
  assert.equal(await rootFromInclusion(3, 3, new Uint8Array(32), []), null);
});

test('leaf fields and amounts read as docs/ledger-format.md says', () => {
  const field = (s) => {
    if (s === null) return [0xff, 0xff, 0xff, 0xff];
    const b = enc.encode(s);
    const len = new Uint8Array(4);
    new DataView(len.buffer).setUint32(0, b.length);
    return [...len, ...b];
  };
  const leaf = Uint8Array.from([1, ...field('id-1'), ...field(null), ...field('四十四')]);
  assert.deepEqual(leafFields(leaf), ['id-1', null, '四十四']);
  // Version 2 (lot, 合格证, weight) reads the same way; an unknown version or a cut leaf does not.
  const v2 = Uint8Array.from([2, ...field('id-2'), ...field('HGZ-1'), ...field(null)]);
  assert.deepEqual(leafFields(v2), ['id-2', 'HGZ-1', null]);
  assert.throws(() => leafFields(Uint8Array.from([3, ...field('id-3')])), /unknown version/);
  assert.throws(() => leafFields(leaf.slice(0, leaf.length - 2)), /truncated/);
  assert.equal(fenOf('440.00'), '44000');
  assert.equal(fenOf('-0.50'), '-50');
  assert.equal(fenOf('0.00'), '0');
  assert.equal(fenOf('12'), '1200');
  assert.equal(unitsOf('38', 3), '38000');
  assert.equal(unitsOf('-1.5', 3), '-1500');
  assert.equal(unitsOf('0.000', 3), '0');
  assert.equal(microsOf('2026-12-03T08:27:19.123456Z'), '1796286439123456');
  assert.equal(microsOf('2026-12-03T08:27:19Z'), '1796286439000000');
  assert.equal(microsOf('2026-12-03T08:27:19.5+00:00'), '1796286439500000');
});
