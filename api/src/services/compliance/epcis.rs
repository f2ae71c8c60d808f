//! A lot's trace as a GS1 EPCIS 2.0 JSON-LD document: one ObjectEvent per step, with CBV
//! business steps `commissioning` (the lot recorded), `shipping` (each supplier order it went
//! to) and `receiving` (each acceptance). CBV values are written as the bare terms of the
//! standard's JSON-LD context (`"bizStep": "shipping"`), as EPCIS 2.0 JSON requires.
//!
//! These producers hold no GS1 keys, so objects, parties and transactions are named by
//! private URNs under `urn:assist-market:` (the lot's class `urn:assist-market:product:<id>:lot:<id>`,
//! an organisation `urn:assist-market:org:<id>`, a supplier order
//! `urn:assist-market:supplier-order:<id>`, a region `urn:assist-market:region:<code>`).
//! Quantities carry UN/ECE Rec. 20/21 units (kg as KGM; 斤 as half a KGM; piece H87, box
//! XBX, bag XBG, bottle XBO). The 合格证 goes in the commissioning event's `ilmd` and, when it
//! has a URL, in its `certificationInfo`.
use super::trace::LotTrace;
use crate::domain::{Quantity, Unit};
use serde_json::{json, Map, Value};

/// The GS1 EPCIS 2.0 JSON-LD context.
pub const EPCIS_CONTEXT: &str = "https://ref.gs1.org/standards/epcis/epcis-context.jsonld";

const NS: &str = "urn:assist-market:";

/// A quantity as a JSON number in the unit's UN/ECE code.
fn amount(q: Quantity, unit: Unit) -> (Value, &'static str) {
    let milli = q.minor() as f64;
    let (n, uom) = match unit {
        Unit::Kg => (milli / 1000.0, "KGM"),
        Unit::Jin => (milli / 2000.0, "KGM"),
        Unit::Piece => (milli / 1000.0, "H87"),
        Unit::Box => (milli / 1000.0, "XBX"),
        Unit::Bag => (milli / 1000.0, "XBG"),
        Unit::Bottle => (milli / 1000.0, "XBO"),
    };
    (serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number), uom)
}

fn time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The offset in force where the events happen (EPCIS 2.0 `eventTimeZoneOffset`): the
/// business calendar's, China time by default.
fn zone() -> String {
    crate::services::clock::offset().to_string()
}

/// The EPCIS document of a trace, created at `created`.
pub fn document(t: &LotTrace, created: chrono::DateTime<chrono::Utc>) -> Value {
    let o = &t.origin;
    let class = format!("{NS}product:{}:lot:{}", o.product_id, t.lot_id);
    let quantity = |q: Quantity| {
        let (n, uom) = amount(q, o.unit);
        json!([{ "epcClass": class, "quantity": n, "uom": uom }])
    };
    let supplier = format!("{NS}org:{}", o.supplier_org_id);
    let mut ilmd = Map::new();
    ilmd.insert("cbvmda:lotNumber".into(), json!(t.lot_id.to_string()));
    ilmd.insert("cbvmda:bestBeforeDate".into(), json!(t.best_before.to_string()));
    if let Some(h) = t.harvested_on {
        ilmd.insert("cbvmda:harvestStartDate".into(), json!(h.to_string()));
    }
    ilmd.insert("am:originRegion".into(), json!(o.origin_region_code));
    if let Some(c) = &t.compliance_certificate {
        ilmd.insert(
            "am:complianceCertificate".into(),
            json!({"am:number": c.number, "am:issuer": c.issuer, "am:issuedOn": c.issued_on.to_string(),
                   "am:traceCode": c.trace_code}),
        );
    }
    let mut commissioning = json!({
        "type": "ObjectEvent",
        "eventTime": time(t.recorded_at),
        "eventTimeZoneOffset": zone(),
        "action": "ADD",
        "bizStep": "commissioning",
        "disposition": if t.uncertified_batch { "non_sellable_other" } else { "active" },
        "quantityList": quantity(t.quantity),
        "bizLocation": { "id": format!("{NS}region:{}", o.origin_region_code) },
        "sourceList": [{ "type": "owning_party", "source": supplier }],
        "ilmd": ilmd,
    });
    if let (Some(url), Some(map)) = (
        t.compliance_certificate.as_ref().and_then(|c| c.url.clone()),
        commissioning.as_object_mut(),
    ) {
        map.insert("certificationInfo".into(), json!(url));
    }
    let mut events = vec![commissioning];
    for s in &t.shipments {
        let buyer = format!("{NS}org:{}", s.buyer_org_id);
        let po = json!([{ "type": "po", "bizTransaction": format!("{NS}supplier-order:{}", s.supplier_order_id) }]);
        events.push(json!({
            "type": "ObjectEvent",
            "eventTime": time(s.shipped_at),
            "eventTimeZoneOffset": zone(),
            "action": "OBSERVE",
            "bizStep": "shipping",
            "disposition": "in_transit",
            "quantityList": quantity(s.lot.quantity),
            "bizTransactionList": po,
            "sourceList": [{ "type": "owning_party", "source": supplier }],
            "destinationList": [{ "type": "owning_party", "destination": buyer }],
        }));
        if let (Some(at), Some(q)) = (s.accepted_at, s.lot.accepted_quantity) {
            events.push(json!({
                "type": "ObjectEvent",
                "eventTime": time(at),
                "eventTimeZoneOffset": zone(),
                "action": "OBSERVE",
                "bizStep": "receiving",
                "disposition": "in_progress",
                "quantityList": quantity(q),
                "bizTransactionList": po,
                "sourceList": [{ "type": "owning_party", "source": supplier }],
                "destinationList": [{ "type": "owning_party", "destination": buyer }],
            }));
        }
    }
    json!({
        "@context": [EPCIS_CONTEXT, { "am": format!("{NS}ns:") }],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": time(created),
        "epcisBody": { "eventList": events },
    })
}

/// The trace as an EPCIS document now.
pub fn of_trace(t: &LotTrace) -> Value {
    document(t, crate::services::now())
}
