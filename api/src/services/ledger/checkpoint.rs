//! Signed checkpoints: the C2SP `tlog-checkpoint` body (origin, tree size, base64
//! root hash) signed as a C2SP `signed-note` with Ed25519, and the verifier key
//! string `name+keyid+base64(0x01 || public key)`. Pure, so the offline verifier
//! uses the same code.
use super::merkle::Hash;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

/// The signature type byte of Ed25519 in signed notes.
const ED25519: u8 = 0x01;

/// The log's signing key and its name (the log's origin).
#[derive(Clone)]
pub struct LogKey {
    origin: String,
    key: SigningKey,
}

impl std::fmt::Debug for LogKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LogKey({})", self.verifier_key())
    }
}

/// The key ID: the first 4 bytes of `SHA-256(name || "\n" || 0x01 || public key)`.
pub fn key_id(name: &str, public: &[u8; 32]) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([ED25519]);
    h.update(public);
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

/// The checkpoint body: three lines, each ending in a newline.
pub fn body(origin: &str, size: u64, root: &Hash) -> String {
    format!("{origin}\n{size}\n{}\n", B64.encode(root))
}

impl LogKey {
    pub fn from_seed(origin: &str, seed: [u8; 32]) -> LogKey {
        LogKey {
            origin: origin.to_string(),
            key: SigningKey::from_bytes(&seed),
        }
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// `name+keyid(hex)+base64(0x01 || public key)`.
    pub fn verifier_key(&self) -> String {
        let public = self.key.verifying_key().to_bytes();
        let mut k = vec![ED25519];
        k.extend_from_slice(&public);
        format!(
            "{}+{}+{}",
            self.origin,
            hex::encode(key_id(&self.origin, &public)),
            B64.encode(k)
        )
    }

    /// The signed note of a checkpoint.
    pub fn sign(&self, size: u64, root: &Hash) -> String {
        let text = body(&self.origin, size, root);
        let sig = self.key.sign(text.as_bytes());
        let mut blob = key_id(&self.origin, &self.key.verifying_key().to_bytes()).to_vec();
        blob.extend_from_slice(&sig.to_bytes());
        format!("{text}\n\u{2014} {} {}\n", self.origin, B64.encode(blob))
    }
}

/// A verifier key parsed from its string form.
#[derive(Clone, Debug)]
pub struct VerifierKey {
    pub name: String,
    pub id: [u8; 4],
    pub key: VerifyingKey,
}

pub fn parse_verifier_key(s: &str) -> Result<VerifierKey, String> {
    let s = s.trim();
    // The name holds no '+'; the base64 key may.
    let mut parts = s.splitn(3, '+');
    let (Some(name), Some(id), Some(k)) = (parts.next(), parts.next(), parts.next()) else {
        return Err("a verifier key is name+keyid+base64".into());
    };
    let raw = B64.decode(k).map_err(|_| "the key is not base64".to_string())?;
    let Some((&ED25519, public)) = raw.split_first() else {
        return Err("the key is not an Ed25519 key (type 0x01)".into());
    };
    let public: [u8; 32] = public
        .try_into()
        .map_err(|_| "an Ed25519 key has 32 bytes".to_string())?;
    let id_bytes: [u8; 4] = hex::decode(id)
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or_else(|| "the key ID is 8 hex digits".to_string())?;
    if key_id(name, &public) != id_bytes {
        return Err("the key ID does not match the name and key".into());
    }
    let key = VerifyingKey::from_bytes(&public).map_err(|e| format!("bad Ed25519 key: {e}"))?;
    Ok(VerifierKey {
        name: name.to_string(),
        id: id_bytes,
        key,
    })
}

/// A checkpoint whose signature by the given key verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

/// Verifies a signed note against `vk` and parses its checkpoint body.
pub fn open(note: &str, vk: &VerifierKey) -> Result<Checkpoint, String> {
    let Some(split) = note.find("\n\n") else {
        return Err("a signed note has a blank line before its signatures".into());
    };
    let (text, sigs) = (&note[..split + 1], &note[split + 2..]);
    let mut good = false;
    for line in sigs.lines() {
        let Some(rest) = line.strip_prefix("\u{2014} ") else {
            return Err(format!("bad signature line: {line:?}"));
        };
        let Some((name, b64)) = rest.split_once(' ') else {
            return Err(format!("bad signature line: {line:?}"));
        };
        let blob = B64.decode(b64).map_err(|_| "a signature is not base64".to_string())?;
        if name != vk.name || blob.len() != 68 || blob[..4] != vk.id {
            continue;
        }
        let sig = Signature::from_slice(&blob[4..]).map_err(|e| e.to_string())?;
        if vk.key.verify(text.as_bytes(), &sig).is_err() {
            return Err("the checkpoint's signature does not verify with this key".into());
        }
        good = true;
    }
    if !good {
        return Err("the checkpoint carries no signature by this key".into());
    }
    let lines: Vec<&str> = text.lines().collect();
    let [origin, size, root] = lines[..] else {
        return Err("a checkpoint body has exactly three lines".into());
    };
    if origin != vk.name {
        return Err("the checkpoint's origin is not the key's name".into());
    }
    // Decimal digits only ("+5" or " 5" would parse, and the Python verifier reads neither).
    if size.is_empty() || !size.bytes().all(|b| b.is_ascii_digit()) {
        return Err("bad tree size".into());
    }
    let size = size.parse::<u64>().map_err(|_| "bad tree size".to_string())?;
    let root: Hash = B64
        .decode(root)
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or_else(|| "bad root hash".to_string())?;
    Ok(Checkpoint {
        origin: origin.to_string(),
        size,
        root,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn keys_with_a_plus_in_their_base64_parse() {
        for seed in 0..64u8 {
            let k = LogKey::from_seed("example.org/log", [seed; 32]);
            let vk = parse_verifier_key(&k.verifier_key()).unwrap(); // ok: unit test
            assert!(open(&k.sign(1, &[seed; 32]), &vk).is_ok());
        }
    }

    #[test]
    fn a_note_verifies_with_its_key_only() {
        let k = LogKey::from_seed("example.org/log", [7; 32]);
        let root = [9u8; 32];
        let note = k.sign(5, &root);
        assert!(note.starts_with("example.org/log\n5\nCQkJ"));
        let vk = parse_verifier_key(&k.verifier_key()).unwrap(); // ok: unit test
        let c = open(&note, &vk).unwrap(); // ok: unit test
        assert_eq!((c.size, c.root), (5, root));
        let other = LogKey::from_seed("example.org/log", [8; 32]);
        let ovk = parse_verifier_key(&other.verifier_key()).unwrap(); // ok: unit test
        assert!(open(&note, &ovk).is_err());
        assert!(open(&other.sign(5, &root), &vk).is_err());
        assert!(open(&note.replace("\n5\n", "\n6\n"), &vk).is_err());
    }
}
