// Checks the ledger in the browser, trusting nothing but the verifier key: the checkpoint's
// Ed25519 signature (vendored @noble/ed25519), the leaf's hash (SHA-256 through WebCrypto),
// and the RFC 9162 inclusion proof from that leaf to the signed root (docs/ledger-format.md).
import { verifyAsync } from '../vendor/noble-ed25519.js';
import { api } from './api.js';

const enc = new TextEncoder();
export const b64 = (s) => Uint8Array.from(atob(s.trim()), (c) => c.charCodeAt(0));
export const hex = (u) => Array.from(u, (b) => b.toString(16).padStart(2, '0')).join('');
const cat = (...parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
};
export async function sha256(bytes) { return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)); }
const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

export const leafHash = (leaf) => sha256(cat(Uint8Array.of(0), leaf));
const nodeHash = (l, r) => sha256(cat(Uint8Array.of(1), l, r));

/** The root an RFC 9162 §2.1.3.2 inclusion proof leads to, or null when the proof is malformed. */
export async function rootFromInclusion(index, size, leaf, path) {
  if (index < 0 || index >= size) return null;
  let fn = index, sn = size - 1, r = leaf;
  for (const p of path) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : null;
}

/** Parses `name+keyid+base64(0x01 || public key)` and checks that the key id is the key's. */
export async function parseVerifierKey(text) {
  // The base64 of the key may itself contain '+': only the first two separate.
  const [name, id, key] = (text.trim().match(/^([^+]+)\+([0-9a-f]{8})\+(.+)$/) || []).slice(1);
  if (!key) throw new Error('verifier key: not name+id+key');
  const raw = b64(key);
  if (raw.length !== 33 || raw[0] !== 1) throw new Error('verifier key: not an Ed25519 key');
  const pub = raw.slice(1);
  const keyId = (await sha256(cat(enc.encode(name + '\n'), raw))).slice(0, 4);
  if (hex(keyId) !== id) throw new Error('verifier key: key id does not match');
  return { name, keyId, pub };
}

/** Verifies a signed note checkpoint with the key; returns {size, root} or throws. */
export async function verifyCheckpoint(note, key) {
  const split = note.indexOf('\n\n');
  if (split < 0) throw new Error('checkpoint: no signature');
  const body = note.slice(0, split + 1);
  const [origin, size, root] = body.split('\n');
  if (origin !== key.name) throw new Error('checkpoint: another origin');
  const lines = note.slice(split + 2).split('\n').filter(Boolean);
  for (const line of lines) {
    const m = line.match(/^\u2014 (\S+) (\S+)$/);
    if (!m || m[1] !== key.name) continue;
    const sig = b64(m[2]);
    if (sig.length !== 68 || !same(sig.slice(0, 4), key.keyId)) continue;
    if (await verifyAsync(sig.slice(4), enc.encode(body), key.pub)) {
      return { size: Number(size), root: b64(root), rootB64: root };
    }
    throw new Error('checkpoint: bad signature');
  }
  throw new Error('checkpoint: no signature by the verifier key');
}

/** The number of fields of each leaf version (docs/ledger-format.md); any other is refused. */
export const LEAF_FIELDS = { 1: 21, 2: 24 };

/** Reads the fields of leaf bytes (version 1 or 2): index 0 is field 1 (`id`). */
export function leafFields(leaf) {
  if (!LEAF_FIELDS[leaf[0]]) throw new Error('leaf: unknown version');
  const view = new DataView(leaf.buffer, leaf.byteOffset, leaf.byteLength);
  const dec = new TextDecoder();
  const out = [];
  let at = 1;
  while (at < leaf.length) {
    if (at + 4 > leaf.length) throw new Error('leaf: truncated');
    const len = view.getUint32(at);
    at += 4;
    if (len === 0xffffffff) { out.push(null); continue; }
    if (at + len > leaf.length) throw new Error('leaf: truncated');
    out.push(dec.decode(leaf.slice(at, at + len)));
    at += len;
  }
  return out;
}

/** Whether the leaf's fields say what the entry says: id, amount, and (version 2) lot, 合格证, weight. */
function leafMatches(version, fields, entry) {
  const opt = (v) => (v === null || v === undefined ? null : String(v));
  if (fields.length !== LEAF_FIELDS[version] || version !== (entry.leaf_version ?? 1)) return false;
  // Every field the listing shows must be the leaf's: the page vouches for what it displays
  // (19 and 20, the migrated chain's seq and hash, are not shown).
  const shown = [
    entry.id, microsOf(entry.occurred_at), String(entry.year), String(entry.month),
    entry.buyer_org_id, entry.supplier_org_id, entry.product_id, entry.category,
    entry.supplier_order_id, entry.order_line_id, entry.origin_region_code,
    entry.origin_county_code, entry.origin_poverty_status, unitsOf(entry.quantity, 3),
    unitsOf(entry.amount, 2), entry.kind, entry.credit_category, opt(entry.pairing_id),
    opt(entry.credited_pairing_id),
  ];
  if (shown.some((v, i) => fields[i] !== v)) return false;
  return version < 2 || (fields[21] === opt(entry.lot_id) && fields[22] === opt(entry.compliance_certificate_number)
    && fields[23] === opt(entry.weight_kg_milli));
}

/** An RFC 3339 instant ("2026-12-03T08:27:19.123456Z") as microseconds since 1970, in text. */
export function microsOf(instant) {
  const frac = (/\.(\d+)/.exec(instant) || ['', ''])[1];
  const secs = Math.floor(Date.parse(instant.replace(/\.\d+/, '')) / 1000);
  if (!Number.isFinite(secs)) return null;
  return (BigInt(secs) * 1000000n + BigInt((frac + '000000').slice(0, 6))).toString();
}

/** A decimal ("440.00", "-1.5") in units of 10^-digits, in text: unitsOf("440.00", 2) = "44000". */
export function unitsOf(amount, digits) {
  const text = String(amount);
  const neg = text.startsWith('-');
  const [w, f = ''] = text.replace('-', '').split('.');
  const units = (w + (f + '0'.repeat(digits)).slice(0, digits)).replace(/^0+(?=\d)/, '');
  return (neg && units !== '0' ? '-' : '') + units;
}

/** "440.00" (yuan) as fen in decimal text: "44000". */
export function fenOf(amount) {
  return unitsOf(amount, 2);
}

let checkpoint = null;
/** The latest checkpoint, its signature verified (once per page load, again on `fresh`). */
export function signedCheckpoint(fresh = false) {
  if (!checkpoint || fresh) {
    checkpoint = (async () => {
      const [keyText, note] = await Promise.all([
        api('/ledger/verifier-key', { as: 'text', accept: 'text/plain' }),
        api('/ledger/checkpoint', { as: 'text', accept: 'text/plain' }),
      ]);
      return verifyCheckpoint(note, await parseVerifierKey(keyText));
    })();
    checkpoint.catch(() => { checkpoint = null; });
  }
  return checkpoint;
}

/**
 * Verifies one entry of GET /ledger: 'pending' when no signed checkpoint covers it yet,
 * 'verified' when its leaf encodes this entry, hashes to its leaf hash and is in the signed
 * tree, 'failed' otherwise. Returns {state, detail}.
 */
export async function verifyEntry(entry) {
  if (!entry.seq) return { state: 'pending', detail: 'unsequenced' };
  let cp;
  try { cp = await signedCheckpoint(); } catch (e) { return { state: 'failed', detail: e.message }; }
  if (entry.seq > cp.size) return { state: 'pending', detail: 'after_checkpoint' };
  try {
    const leaf = await api(`/ledger/entries/${entry.seq}/leaf`, { as: 'bytes', accept: 'application/octet-stream' });
    const fields = leafFields(leaf);
    if (!leafMatches(leaf[0], fields, entry)) return { state: 'failed', detail: 'leaf_fields' };
    const lh = await leafHash(leaf);
    if (hex(lh) !== entry.leaf_hash) return { state: 'failed', detail: 'leaf_hash' };
    const proof = await api(`/ledger/entries/${entry.seq}/proof?tree_size=${cp.size}`);
    const root = await rootFromInclusion(proof.leaf_index, proof.tree_size, lh, proof.hashes.map(b64));
    // The proof must be of this entry's position, not of another leaf the service chose.
    if (proof.leaf_index !== entry.seq - 1 || proof.tree_size !== cp.size || !root || !same(root, cp.root)) {
      return { state: 'failed', detail: 'proof' };
    }
    return { state: 'verified', detail: `${cp.size}` };
  } catch (e) {
    return { state: 'failed', detail: e.message };
  }
}
