//! Writing a new order: checks against the database, money, reservation, rows, emails.
use super::queries;
use super::read::to_order_with;
use super::types::{NewOrder, Order, OrderSource, Purchaser};
use crate::domain::{Money, OrgStatus, PaymentTerms, ProductId, ProductStatus, Quantity, SupplierOrderStatus};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::writes::Writes;
use crate::services::{new_id, now, outbox, payments, stock, today, weight};
use entity::{order_lines, orders, organizations, products, supplier_orders};
use sea_orm::DatabaseTransaction;
use std::collections::{BTreeMap, HashMap};

/// A line that passed the checks, with its price and amount.
struct Priced {
    product: products::Model,
    qty: Quantity,
    price: Money,
    amount: Money,
}

/// Validates against the database, reserves, and writes orders, supplier orders, lines and
/// emails. `prods` are the products the lines name, as read with the idempotency claim. `with`
/// adds writes that go with the order once its answer is known (the key's stored response):
/// they commit with it or not at all.
pub(super) async fn write_order(
    txn: &DatabaseTransaction,
    purchaser: &Purchaser,
    req: &NewOrder,
    source: &OrderSource,
    prods: Vec<products::Model>,
    with: impl FnOnce(&mut Writes, &Order) -> AppResult<()>,
) -> AppResult<Order> {
    let buyer_id = purchaser.org_id.to_string();
    let prods: HashMap<String, products::Model> = prods.into_iter().map(|p| (p.id.clone(), p)).collect();
    // The buyer and every supplier in one read (each organisation once), which on PostgreSQL
    // also locks the products for the reservation. The lock is thus taken before the checks
    // below, so a refused order holds it briefly too: one round trip fewer for every order.
    let mut org_ids: Vec<String> = prods.values().map(|p| p.supplier_org_id.clone()).collect();
    org_ids.push(buyer_id.clone());
    org_ids.sort();
    org_ids.dedup();
    let lock = stock::ReservationLock::new(req.lines.iter().map(|l| l.product_id));
    let orgs: HashMap<String, organizations::Model> = queries::orgs_by_ids_locking(txn, org_ids, &lock)
        .await?
        .into_iter()
        .map(|o| (o.id.clone(), o))
        .collect();
    let buyer = orgs.get(&buyer_id).ok_or(AppError::NotFound("organization"))?;
    let mut errors = Vec::new();
    // A suspended buyer's users are refused at sign-in; this stops the orders placed for it
    // (a standing agreement's periods are recorded as not placed).
    if buyer.status != OrgStatus::Active {
        errors.push(FieldError::new(
            "buyer",
            format!("the buyer organisation is {}", buyer.status),
        ));
    }
    if let Some(pid) = &req.pairing_id {
        // The pairing of the order's year: a standing agreement's period placed late (the job
        // was down over New Year) keeps its period's year.
        use chrono::Datelike;
        let year = match source {
            OrderSource::Agreement { period, .. } => period
                .parse::<chrono::NaiveDate>()
                .map_or_else(|_| today().year(), |d| d.year()),
            OrderSource::Direct | OrderSource::Pledge { .. } => today().year(),
        };
        let ok = match queries::find_pairing(txn, pid.to_string()).await? {
            Some(p) => {
                p.year == year
                    && (p.helper_org_id == buyer.id || Some(&p.helper_org_id) == buyer.parent_org_id.as_ref())
            }
            None => false,
        };
        if !ok {
            errors.push(FieldError::new(
                "pairing_id",
                "must be a pairing of this year whose helper is the buyer or its parent",
            ));
        }
    }
    let lines = priced_lines(req, &prods, &orgs, &mut errors)?;
    AppError::check(errors)?;

    // Split by supplier.
    let mut by_supplier: BTreeMap<String, Vec<&Priced>> = BTreeMap::new();
    for l in &lines {
        by_supplier
            .entry(l.product.supplier_org_id.clone())
            .or_default()
            .push(l);
    }
    let t = now();
    let order_id = new_id();
    let mut total = Money::ZERO;
    let mut so_rows = Vec::new();
    let mut line_rows = Vec::new();
    for (supplier, ls) in &by_supplier {
        let so_id = new_id();
        let so_total = Money::checked_sum(ls.iter().map(|l| l.amount)).map_err(|e| AppError::amount("lines", e))?;
        total = total.checked_add(so_total).map_err(|e| AppError::amount("lines", e))?;
        for l in ls {
            line_rows.push(order_lines::Model {
                id: new_id(),
                order_id: order_id.clone(),
                supplier_order_id: so_id.clone(),
                product_id: l.product.id.clone(),
                quantity_milli: l.qty.minor(),
                unit_price_fen: l.price.minor(),
                amount_fen: l.amount.minor(),
                accepted_quantity_milli: None,
                returned_quantity_milli: 0,
            });
        }
        so_rows.push(supplier_orders::Model {
            id: so_id,
            order_id: order_id.clone(),
            buyer_org_id: buyer_id.clone(),
            supplier_org_id: supplier.clone(),
            status: SupplierOrderStatus::Placed.as_str().to_string(),
            total_fen: so_total.minor(),
            shipment_note: None,
            invoice_number: None,
            acceptance_note: None,
            status_note: None,
            accepted_at: None,
            created_at: t,
            updated_at: t,
        });
    }
    let (src, src_ref) = source.stored();
    let order = orders::Model {
        id: order_id.clone(),
        buyer_org_id: buyer_id.clone(),
        buyer_user_id: purchaser.user_id.map(|u| u.to_string()),
        credit_category: req.credit_category.as_str().to_string(),
        pairing_id: req.pairing_id.map(|p| p.to_string()),
        deliver_to: req.deliver_to.trim().to_string(),
        requested_date: req.requested_date,
        total_fen: total.minor(),
        source: src.into(),
        source_ref: src_ref,
        payment_terms: req
            .payment_terms
            .unwrap_or(PaymentTerms::OnAccount)
            .as_str()
            .to_string(),
        deliver_by: req.deliver_by,
        created_at: t,
    };
    // Nothing written is read back before the reservation, so the rows go with it: one round
    // trip on PostgreSQL (services::writes).
    let mut writes = Writes::new(txn);
    queries::insert_order(&mut writes, order.clone(), so_rows.clone(), line_rows.clone());
    let products: Vec<&products::Model> = lines.iter().map(|l| &l.product).collect();
    let weights = weight::snapshot(&mut writes, &line_rows, &products)?;
    let terms = req.payment_terms.unwrap_or(PaymentTerms::OnAccount);
    let terms = payments::write_terms(&mut writes, buyer, &orgs, &so_rows, terms, req.deliver_by)?;
    let names: HashMap<&str, &str> = lines
        .iter()
        .map(|l| (l.product.id.as_str(), l.product.name.as_str()))
        .collect();
    let mut mails = Vec::with_capacity(so_rows.len());
    for so in &so_rows {
        let mut text = format!(
            "{} placed order {} with you.\n\nDeliver to: {}\nRequested date: {}\n\n",
            buyer.name, so.id, order.deliver_to, order.requested_date
        );
        for l in line_rows.iter().filter(|l| l.supplier_order_id == so.id) {
            text.push_str(&format!(
                "- {} ({}): {} at {} = {}\n",
                names.get(l.product_id.as_str()).copied().unwrap_or(""),
                l.product_id,
                Quantity::from_minor(l.quantity_milli).map_err(AppError::internal)?,
                Money::from_minor(l.unit_price_fen).map_err(AppError::internal)?,
                Money::from_minor(l.amount_fen).map_err(AppError::internal)?,
            ));
        }
        text.push_str(&format!(
            "\nTotal: {}\n",
            Money::from_minor(so.total_fen).map_err(AppError::internal)?
        ));
        let to = orgs
            .get(&so.supplier_org_id)
            .ok_or(AppError::NotFound("organization"))?;
        mails.push((to.contact_email.clone(), format!("New order {}", so.id), text));
    }
    outbox::enqueue_many_with(&mut writes, &mails);
    // The answer from the rows about to be written, as they would be read back.
    let mut order = to_order_with(order, so_rows, line_rows)?;
    payments::attach_rows(&mut order.supplier_orders, terms)?;
    weight::attach_rows(&mut order.supplier_orders, weights)?;
    weight::attach_order(&mut order)?;
    with(&mut writes, &order)?;
    // The reservation comes last: the product rows it changes are the ones concurrent orders
    // and acceptances wait for, so they are held only until the commit that follows. When a
    // line is short the transaction rolls back and nothing above is kept.
    reserve(txn, &lock, writes, req, &lines).await?;
    Ok(order)
}

/// Every line checked against its product (known, certified, in date, supplier active,
/// minimum quantity) and priced with checked arithmetic. Refusals go to `errors`.
fn priced_lines(
    req: &NewOrder,
    prods: &HashMap<String, products::Model>,
    orgs: &HashMap<String, organizations::Model>,
    errors: &mut Vec<FieldError>,
) -> AppResult<Vec<Priced>> {
    let today = today();
    let active: HashMap<&str, bool> = orgs
        .values()
        .map(|o| (o.id.as_str(), o.status == OrgStatus::Active))
        .collect();
    let mut out = Vec::with_capacity(req.lines.len());
    let mut total = Money::ZERO;
    for (i, l) in req.lines.iter().enumerate() {
        let pf = format!("lines[{i}].product_id");
        let qf = format!("lines[{i}].quantity");
        let Some(product) = prods.get(&l.product_id.to_string()) else {
            errors.push(FieldError::new(pf, "is not a known product"));
            continue;
        };
        if product.status != ProductStatus::Certified {
            errors.push(FieldError::new(
                pf,
                format!("is not a certified product (it is {})", product.status),
            ));
            continue;
        }
        if product.valid_until.map(|d| d < today).unwrap_or(true) {
            errors.push(FieldError::new(pf, "has an expired certification"));
            continue;
        }
        if !active.get(product.supplier_org_id.as_str()).copied().unwrap_or(false) {
            errors.push(FieldError::new(pf, "belongs to a supplier that is not active"));
            continue;
        }
        let min = Quantity::from_minor(product.min_order_qty_milli).map_err(AppError::internal)?;
        if l.quantity < min {
            errors.push(FieldError::new(
                qf,
                format!("is below the product's minimum order quantity ({min})"),
            ));
            continue;
        }
        let price = Money::from_minor(product.price_fen).map_err(AppError::internal)?;
        let amount = match weight::estimate(product, price, l.quantity)? {
            Ok(a) => a,
            Err(e) => {
                errors.push(FieldError::new(qf, e));
                continue;
            }
        };
        match total.checked_add(amount) {
            Ok(t) => total = t,
            Err(e) => {
                errors.push(FieldError::new(
                    qf,
                    format!("makes the order's total too large: the total {e}"),
                ));
                continue;
            }
        }
        out.push(Priced {
            product: product.clone(),
            qty: l.quantity,
            price,
            amount,
        });
    }
    Ok(out)
}

/// Reserves every product in one statement (`lock`, sent with the organisations' read, took
/// them in id order: no deadlocks between orders); a product short of stock is named on its
/// first line.
async fn reserve(
    txn: &DatabaseTransaction,
    lock: &stock::ReservationLock,
    writes: Writes,
    req: &NewOrder,
    lines: &[Priced],
) -> AppResult<()> {
    let mut per_product: BTreeMap<ProductId, (Quantity, usize)> = BTreeMap::new();
    for (i, l) in req.lines.iter().enumerate() {
        let e = per_product.entry(l.product_id).or_insert((Quantity::ZERO, i));
        e.0 =
            e.0.checked_add(l.quantity)
                .map_err(|e| AppError::amount(format!("lines[{i}].quantity"), e))?;
    }
    debug_assert_eq!(lines.len(), req.lines.len());
    let items: Vec<(ProductId, Quantity)> = per_product.iter().map(|(p, (q, _))| (*p, *q)).collect();
    let short = stock::reserve_many(txn, lock, writes, &items).await?;
    let mut errors = Vec::new();
    for (pid, (_, first)) in per_product.iter().filter(|(p, _)| short.contains(p)) {
        let s = stock::stock_of(txn, &pid.to_string()).await?;
        errors.push(FieldError::new(
            format!("lines[{first}].quantity"),
            format!("exceeds the available stock ({} available)", s.available()),
        ));
    }
    AppError::check(errors)
}
