-- One POST /supplier-orders/{id}/accept of a two-line supplier order, statement by
-- statement as the service issues them on PostgreSQL (captured with log_statement=all;
-- routes/orders.rs, services/orders/accept.rs, accept_queries.rs, compliance, stock, plans,
-- ledger, outbox), for
-- pgbench -M prepared with -D targets=. The target comes from bench_targets (one primary-key
-- read more than the service does); its status is not checked, so every replay writes.
-- 13 round trips: the route's check reads the supplier order (with its order) once and hands
-- it to the service; the buyer and supplier are read in the statement that sets the status
-- (services/writes.rs write_then_read); as WITH clauses of one statement each
-- (services/writes.rs), the lines' accepted quantities go with the release of the
-- reservations, the shipped lots' accepted quantities and the stock movements with the take
-- from the lots, and the ledger entries and the two emails with the read of the terms; the
-- answer is built from the rows written and those terms. Replayed targets were never shipped,
-- so the shipment_lots statements find no rows, as for an order shipped before lots were
-- recorded.
\set t random(1, :targets)
\set n random(1, 99999999999)
SELECT so_id, order_id, buyer_id, supplier_id, l1, l2, p1, p2, lot1, lot2 FROM bench_targets WHERE k = :t \gset
-- the bearer token's session (routes::caller)
SELECT s.user_id, u.org_id, o.status AS org_status, CASE WHEN s.revoked_at IS NULL THEN 0 ELSE 1 END AS session_revoked, CASE WHEN u.deactivated_at IS NULL THEN 0 ELSE 1 END AS user_deactivated FROM sessions s JOIN users u ON u.id = s.user_id JOIN organizations o ON o.id = u.org_id WHERE s.id = bench_id(10, 0);
-- may_act_as_buyer (the route; its own order needs no look at its children), then the lines
-- with their weight rows (the shipment's 合格证 check reads the shipped lots in the transaction)
SELECT so.*, o.* FROM supplier_orders so LEFT JOIN orders o ON so.order_id = o.id WHERE so.id = :so_id LIMIT 1;
SELECT l.*, w.* FROM order_lines l LEFT JOIN order_line_weights w ON l.id = w.order_line_id WHERE l.supplier_order_id = :so_id ORDER BY l.id;
BEGIN;
WITH w AS (UPDATE supplier_orders SET status = 'accepted', invoice_number = 'INV-1', acceptance_note = NULL, status_note = NULL, accepted_at = now(), updated_at = now() WHERE id = :so_id AND status IN ('placed', 'delivered', 'accepted') RETURNING id) SELECT (SELECT COUNT(*) FROM w) AS written_rows, t.* FROM (SELECT 1) AS one LEFT JOIN organizations t ON t.id IN (:buyer_id, :supplier_id);
WITH w0 AS (UPDATE order_lines SET accepted_quantity_milli = CASE id WHEN :l1 THEN 1000 WHEN :l2 THEN 1000 END WHERE supplier_order_id = :so_id) UPDATE products SET reserved_milli = CASE WHEN reserved_milli >= (CASE id WHEN :p1 THEN 1000 WHEN :p2 THEN 1000 END) THEN reserved_milli - (CASE id WHEN :p1 THEN 1000 WHEN :p2 THEN 1000 END) ELSE 0 END WHERE id IN (:p1, :p2);
SELECT sl.*, l.* FROM shipment_lots sl LEFT JOIN lots l ON sl.lot_id = l.id WHERE sl.supplier_order_id = :so_id ORDER BY sl.order_line_id, sl.id;
WITH w0 AS (UPDATE shipment_lots SET accepted_milli = 1000 WHERE supplier_order_id = :so_id), w1 AS (INSERT INTO stock_movements (id, product_id, lot_id, delta_milli, kind, reason, ref_id, actor_user_id, created_at) VALUES (bench_id(15, 2 * :n::bigint), :p1, :lot1, -1000, 'sale', NULL, :so_id, NULL, now()), (bench_id(15, 2 * :n::bigint + 1), :p2, :lot2, -1000, 'sale', NULL, :so_id, NULL, now())) UPDATE lots SET remaining_milli = remaining_milli - (CASE id WHEN :lot1 THEN 1000 WHEN :lot2 THEN 1000 END) WHERE id IN (:lot1, :lot2) AND remaining_milli >= (CASE id WHEN :lot1 THEN 1000 WHEN :lot2 THEN 1000 END) RETURNING id;
SELECT p.id, p.category, p.origin_region_code, p.origin_county_code, r.level AS r_level, r.parent_code AS r_parent_code, r.poverty_status AS r_poverty_status FROM products p LEFT JOIN regions r ON r.code = p.origin_county_code WHERE p.id IN (:p1, :p2);
SELECT * FROM plans WHERE buyer_org_id = :buyer_id AND year = 2026 LIMIT 1;
SELECT * FROM pairings WHERE year = 2026 AND helper_org_id IN (:buyer_id) AND helped_region_code IN ('130727') ORDER BY created_at, id;
WITH w0 AS (INSERT INTO ledger_entries (id, occurred_at, year, month, buyer_org_id, supplier_org_id, product_id, category, supplier_order_id, order_line_id, origin_region_code, origin_county_code, origin_poverty_status, quantity_milli, amount_fen, kind, credit_category, pairing_id, legacy_seq, legacy_hash, leaf_version, leaf_hash, credited_pairing_id, lot_id, compliance_certificate_number, weight_kg_milli) VALUES (bench_id(14, 2 * :n::bigint), now(), 2026, 12, :buyer_id, :supplier_id, :p1, 'grain', :so_id, :l1, '130727', '130727', 'deep_poverty', 1000, 880, 'credit', 'purchase', NULL, NULL, NULL, 2, md5(bench_id(14, 2 * :n::bigint)) || md5(:l1::text), NULL, :lot1, NULL, NULL), (bench_id(14, 2 * :n::bigint + 1), now(), 2026, 12, :buyer_id, :supplier_id, :p2, 'grain', :so_id, :l2, '130727', '130727', 'deep_poverty', 1000, 880, 'credit', 'purchase', NULL, NULL, NULL, 2, md5(bench_id(14, 2 * :n::bigint + 1)) || md5(:l2::text), NULL, :lot2, NULL, NULL)), w1 AS (INSERT INTO outbox (id, to_addr, subject, body, status, attempts, next_attempt_at, claimed_until, last_error, created_at, sent_at) VALUES (bench_id(16, 2 * :n::bigint), 'contact@bench.test', 'Supplier order ' || :so_id::text || ' is accepted', repeat('Supplier order is now accepted. ', 4), 'pending', 0, now(), NULL, NULL, now(), NULL), (bench_id(16, 2 * :n::bigint + 1), 'contact@bench.test', 'Supplier order ' || :so_id::text || ' was accepted by the buyer', repeat('The buyer marked supplier order as accepted. ', 4), 'pending', 0, now(), NULL, NULL, now(), NULL)) SELECT * FROM supplier_order_terms WHERE supplier_order_id IN (:so_id);
COMMIT;
