//! The leaf format (docs/ledger-format.md): a versioned canonical encoding of every
//! field of an entry. Version 1: the byte `0x01`, then each field in a fixed order
//! as a 4-byte big-endian length and its UTF-8 bytes (integers in decimal), an
//! absent optional field as the length `0xFFFFFFFF` with no bytes. A field added
//! later goes into a new version; entries keep the version they were written with.
//! Version 2 (`0x02`): version 1's 21 fields, then `lot_id`, `compliance_certificate_number`
//! and `weight_kg_milli` (all optional).
use super::merkle::{self, Hash};
use crate::error::{AppError, AppResult};
use entity::ledger_entries;

/// The version new entries are written with.
pub const LEAF_VERSION: i32 = 2;

const ABSENT: u32 = u32::MAX;

/// The field names of version 1, in their order (also the JSON keys of the export).
pub const FIELDS_V1: [&str; 21] = [
    "id",
    "occurred_at_us",
    "year",
    "month",
    "buyer_org_id",
    "supplier_org_id",
    "product_id",
    "category",
    "supplier_order_id",
    "order_line_id",
    "origin_region_code",
    "origin_county_code",
    "origin_poverty_status",
    "quantity_milli",
    "amount_fen",
    "kind",
    "credit_category",
    "pairing_id",
    "credited_pairing_id",
    "legacy_seq",
    "legacy_hash",
];

/// The values of version 1's fields, in [`FIELDS_V1`] order.
pub fn values_v1(m: &ledger_entries::Model) -> [Option<String>; 21] {
    [
        Some(m.id.clone()),
        Some(m.occurred_at.timestamp_micros().to_string()),
        Some(m.year.to_string()),
        Some(m.month.to_string()),
        Some(m.buyer_org_id.clone()),
        Some(m.supplier_org_id.clone()),
        Some(m.product_id.clone()),
        Some(m.category.clone()),
        Some(m.supplier_order_id.clone()),
        Some(m.order_line_id.clone()),
        Some(m.origin_region_code.clone()),
        Some(m.origin_county_code.clone()),
        Some(m.origin_poverty_status.clone()),
        Some(m.quantity_milli.to_string()),
        Some(m.amount_fen.to_string()),
        Some(m.kind.clone()),
        Some(m.credit_category.clone()),
        m.pairing_id.clone(),
        m.credited_pairing_id.clone(),
        m.legacy_seq.map(|s| s.to_string()),
        m.legacy_hash.clone(),
    ]
}

/// The field names of version 2: version 1's, then three more (optional).
pub const FIELDS_V2: [&str; 24] = {
    let mut names = [""; 24];
    let mut i = 0;
    while i < FIELDS_V1.len() {
        names[i] = FIELDS_V1[i];
        i += 1;
    }
    names[21] = "lot_id";
    names[22] = "compliance_certificate_number";
    names[23] = "weight_kg_milli";
    names
};

/// The field names of a leaf version (None for a version this build does not know).
pub fn fields_of(version: i32) -> Option<&'static [&'static str]> {
    match version {
        1 => Some(&FIELDS_V1),
        2 => Some(&FIELDS_V2),
        _ => None,
    }
}

/// The values of the fields of the entry's own version, in that version's order.
pub fn values_of(m: &ledger_entries::Model) -> AppResult<Vec<Option<String>>> {
    let mut values = values_v1(m).to_vec();
    match m.leaf_version {
        1 => {}
        2 => values.extend([
            m.lot_id.clone(),
            m.compliance_certificate_number.clone(),
            m.weight_kg_milli.map(|w| w.to_string()),
        ]),
        v => return Err(AppError::internal(format!("unknown ledger leaf version {v}"))),
    }
    Ok(values)
}

/// Encodes values with a version byte first.
pub fn encode_values(version: u8, values: &[Option<String>]) -> AppResult<Vec<u8>> {
    let mut out = vec![version];
    for v in values {
        match v {
            None => out.extend_from_slice(&ABSENT.to_be_bytes()),
            Some(s) => {
                let len = u32::try_from(s.len())
                    .ok()
                    .filter(|l| *l != ABSENT)
                    .ok_or_else(|| AppError::internal("a ledger field is too long to encode"))?;
                out.extend_from_slice(&len.to_be_bytes());
                out.extend_from_slice(s.as_bytes());
            }
        }
    }
    Ok(out)
}

/// The exact bytes hashed into an entry's leaf, in the version it was written with.
pub fn leaf_bytes(m: &ledger_entries::Model) -> AppResult<Vec<u8>> {
    let version = u8::try_from(m.leaf_version)
        .map_err(|_| AppError::internal(format!("unknown ledger leaf version {}", m.leaf_version)))?;
    encode_values(version, &values_of(m)?)
}

/// `SHA-256(0x00 || leaf bytes)`.
pub fn leaf_hash(m: &ledger_entries::Model) -> AppResult<Hash> {
    Ok(merkle::leaf_hash(&leaf_bytes(m)?))
}

/// A hex hash read back from the database.
pub fn parse_hex(s: &str) -> Option<Hash> {
    hex::decode(s).ok().and_then(|v| v.try_into().ok())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn an_absent_field_differs_from_an_empty_one() {
        let a = encode_values(1, &[None, Some("x".into())]).unwrap(); // ok: unit test
        let b = encode_values(1, &[Some(String::new()), Some("x".into())]).unwrap(); // ok: unit test
        assert_ne!(a, b);
        assert_eq!(a, [1, 255, 255, 255, 255, 0, 0, 0, 1, b'x']);
        // Moving bytes between fields changes the encoding.
        let c = encode_values(1, &[Some("ab".into()), Some("c".into())]).unwrap(); // ok: unit test
        let d = encode_values(1, &[Some("a".into()), Some("bc".into())]).unwrap(); // ok: unit test
        assert_ne!(c, d);
    }

    #[test]
    fn version_two_extends_version_one() {
        assert_eq!(FIELDS_V2[..21], FIELDS_V1[..]);
        assert_eq!(fields_of(2).unwrap().len(), 24); // ok: unit test
        assert!(fields_of(3).is_none());
    }
}
