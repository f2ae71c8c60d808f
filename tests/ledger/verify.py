"""An independent verifier of the ledger, written from docs/ledger-format.md alone
(hashlib and `cryptography` only), so that the format is not defined by the Rust code.

    python3 verify.py export FILE --checkpoint NOTE_FILE --key KEY
    python3 verify.py proofs FILE --key KEY

`export`: recomputes every leaf of a `GET /ledger/export` file, the root at each embedded
checkpoint and at NOTE_FILE's size, and every signature. `proofs`: FILE is a JSON list of
{"inclusion": <GET /ledger/entries/{seq}/proof>, "checkpoint": <note at its tree_size>,
"leaf": <optional base64 of GET .../leaf>} and {"consistency": <GET /ledger/consistency>,
"old": <note at from>, "new": <note at to>}. KEY is the verifier key or a file holding it.
Exit 0: "ok ..."; 1: "bad: first bad position N: ..." (export) or "bad: proof I: ..."; 2: unreadable input.
"""
import base64
import hashlib
import json
import os
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

V1 = ["id", "occurred_at_us", "year", "month", "buyer_org_id", "supplier_org_id", "product_id", "category",
      "supplier_order_id", "order_line_id", "origin_region_code", "origin_county_code", "origin_poverty_status",
      "quantity_milli", "amount_fen", "kind", "credit_category", "pairing_id", "credited_pairing_id",
      "legacy_seq", "legacy_hash"]
FIELDS = {1: V1, 2: V1 + ["lot_id", "compliance_certificate_number", "weight_kg_milli"]}


class Unreadable(Exception):
    pass


def sha(b):
    return hashlib.sha256(b).digest()


def node(left, right):
    return sha(b"\x01" + left + right)


def leaf_bytes(version, fields):
    names = FIELDS.get(version)
    if names is None:
        raise Unreadable(f"unknown leaf_version {version}")
    if not isinstance(fields, dict) or set(fields) != set(names):
        raise Unreadable(f"version {version} has exactly the fields {names}")
    out = bytes([version])
    for name in names:
        v = fields[name]
        if v is None:
            out += b"\xff\xff\xff\xff"
        elif isinstance(v, str):
            out += len(v.encode()).to_bytes(4, "big") + v.encode()
        else:
            raise Unreadable(f"field {name} is neither a string nor null")
    return out


class Frontier:
    """The right edge of the tree: (level, hash) of its complete subtrees, largest first."""

    def __init__(self):
        self.size, self.nodes = 0, []

    def push(self, h):
        level = 0
        while self.nodes and self.nodes[-1][0] == level:
            h, level = node(self.nodes.pop()[1], h), level + 1
        self.nodes.append((level, h))
        self.size += 1

    def root(self):
        if not self.nodes:
            return sha(b"")
        r = self.nodes[-1][1]
        for _, h in reversed(self.nodes[:-1]):
            r = node(h, r)
        return r


def parse_key(text):
    name, key_id, b64 = text.strip().split("+", 2)
    raw = base64.b64decode(b64)
    if len(raw) != 33 or raw[0] != 1 or sha(name.encode() + b"\n" + raw)[:4].hex() != key_id.lower():
        raise Unreadable("a verifier key is name+keyid+base64(0x01 || Ed25519 public key)")
    return name, bytes.fromhex(key_id), Ed25519PublicKey.from_public_bytes(raw[1:])


def open_note(note, key):
    """(size, root) of a checkpoint signed by key; ValueError when it is not."""
    name, key_id, public = key
    body, sep, sigs = note.partition("\n\n")
    body += "\n"
    good = False
    for line in sigs.splitlines() if sep else []:
        if not line.startswith("\u2014 ") or " " not in line[2:]:
            raise ValueError(f"bad signature line: {line!r}")
        signer, _, b64 = line.removeprefix("\u2014 ").partition(" ")
        blob = base64.b64decode(b64)
        if signer == name and blob[:4] == key_id and len(blob) == 68:
            try:
                public.verify(blob[4:], body.encode())
                good = True
            except InvalidSignature:
                raise ValueError("a signature by the key does not verify")
    lines = body.split("\n")[:-1]
    if not good or len(lines) != 3 or lines[0] != name or not lines[1].isascii() or not lines[1].isdigit():
        raise ValueError("not a checkpoint signed by this key")
    root = base64.b64decode(lines[2])
    return int(lines[1]), root


def verify_export(lines, note, key):
    """`lines`: the export's lines as bytes (a file opened in binary mode is read a line at a
    time); JSON Lines end at \\n only, and each line is decoded on its own, so a bad byte is
    named by its line."""
    cp_size, cp_root = None, None
    try:
        cp_size, cp_root = open_note(note, key)
    except ValueError as e:
        target_problem = f"the checkpoint: {e}"
    tree, last_good, bad = Frontier(), 0, []
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            v = json.loads(raw.decode("utf-8"))
            if "checkpoint" in v:
                try:
                    size, root = open_note(v["checkpoint"], key)
                except ValueError as e:
                    bad.append((last_good + 1, f"line {number}: {e}"))
                    continue
                if size != tree.size:
                    bad.append((last_good + 1, f"line {number}: a checkpoint of size {size} after position {tree.size}"))
                elif root == tree.root():
                    last_good = size
                else:
                    bad.append((last_good + 1, f"line {number}: the root at {size} differs"))
                continue
            expected = tree.size + 1
            if type(v.get("seq")) is not int or v["seq"] < 0:
                raise Unreadable("no seq")
            if ("leaf_hash" in v) == ("fields" in v):
                raise Unreadable("a position carries either fields or a leaf_hash")
            if v["seq"] != expected:
                bad.append((min(expected, int(v["seq"])), f"line {number}: seq {v['seq']} where {expected} was expected"))
            if "leaf_hash" in v:
                h = base64.b64decode(v["leaf_hash"], validate=True)
                if len(h) != 32:
                    raise Unreadable("a leaf_hash is not a SHA-256 hash")
            else:
                if type(v.get("leaf_version")) is not int:
                    raise Unreadable(f"unknown leaf_version {v.get('leaf_version')!r}")
                h = sha(b"\x00" + leaf_bytes(v.get("leaf_version"), v.get("fields")))
        except (Unreadable, ValueError, KeyError, TypeError, AttributeError) as e:
            raise Unreadable(f"line {number}: {e}")
        tree.push(h)
        if tree.size == cp_size and tree.root() != cp_root:
            bad.append((last_good + 1, "the root at the checkpoint's size differs"))
    if cp_size is None:
        bad.append((last_good + 1, target_problem))
    elif tree.size < cp_size:
        bad.append((tree.size + 1, f"the file ends at {tree.size} before the checkpoint's {cp_size}"))
    elif tree.size > max(cp_size, last_good):
        covered = max(cp_size, last_good)
        bad.append((covered + 1, f"positions {covered + 1} to {tree.size} follow the last checkpoint that covers them"))
    if bad:
        seq, why = min(bad, key=lambda b: b[0])
        return False, f"bad: first bad position {seq}: {why}"
    return True, f"ok: {tree.size} positions, tree size {cp_size}, root {base64.b64encode(tree.root()).decode()}"


def verify_inclusion(index, size, leaf, path, root):
    """RFC 9162 section 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(m, n, old, new, path):
    """RFC 9162 section 2.1.4.2 (equal sizes: no hashes and equal roots)."""
    if m == n:
        return not path and old == new
    if m == 0 or m > n:
        return m == 0 and not path
    if not path:
        return False
    if m & (m - 1) == 0:
        path = [old] + path
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node(c, fr), node(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old and sr == new


def check_proof(item, key):
    b64 = base64.b64decode
    if "inclusion" in item:
        p = item["inclusion"]
        size, root = open_note(item["checkpoint"], key)
        leaf = b64(p["leaf_hash"])
        if "leaf" in item and sha(b"\x00" + b64(item["leaf"])) != leaf:
            return "the leaf bytes do not hash to leaf_hash"
        if size != p["tree_size"] or not verify_inclusion(p["leaf_index"], size, leaf, [b64(h) for h in p["hashes"]], root):
            return f"the inclusion proof of {p['leaf_index'] + 1} in {p['tree_size']} does not verify"
    else:
        p = item["consistency"]
        m, old = open_note(item["old"], key)
        n, new = open_note(item["new"], key)
        if (m, n) != (p["from"], p["to"]) or not verify_consistency(m, n, old, new, [b64(h) for h in p["hashes"]]):
            return f"the consistency proof from {p['from']} to {p['to']} does not verify"
    return None


def main(argv):
    read = lambda path: open(path, encoding="utf-8").read()  # noqa: E731
    args = dict(zip(argv[2::2], argv[3::2]))
    try:
        key = parse_key(read(args["--key"]) if os.path.isfile(args["--key"]) else args["--key"])
        if argv[0] == "export":
            with open(argv[1], "rb") as export:
                ok, message = verify_export(export, read(args["--checkpoint"]), key)
        else:
            bad, items = [], json.loads(read(argv[1]))
            for i, item in enumerate(items):
                try:
                    problem = check_proof(item, key)
                except (ValueError, KeyError, TypeError, IndexError) as e:
                    problem = f"unreadable ({e})"
                if problem:
                    bad.append(f"bad: proof {i}: {problem}")
            ok, message = not bad, "\n".join(bad) or f"ok: {len(items)} proofs"
    except (Unreadable, ValueError, KeyError, IndexError, OSError) as e:
        print(f"unreadable: {e}")
        return 2
    print(message)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
