-- One POST /orders (3 lines, 2 suppliers), statement by statement as the service issues
-- them on PostgreSQL (captured with log_statement=all; services/orders/place.rs, write.rs,
-- stock, payments, outbox), for pgbench -M prepared with -D buyers= suppliers= per=.
-- 9 round trips: the products, then the buyer and its suppliers in one read; then the lock of
-- the products (FOR NO KEY UPDATE in id order, late, so it is held only until the commit, and in
-- a statement of its own, so that the reservation sums the lots as any take that held the lock
-- left them); then one statement (services/writes.rs) that writes the order, supplier orders,
-- lines, terms and emails as WITH clauses of the reservation of all products; the answer is
-- built from the rows written.
-- Ids: bench_id(kind, n), as tests/bench/orders/seed.rs seeds them.
\set b random(0, :buyers - 1)
\set s1 random(0, :suppliers - 2)
\set s2 :s1 + 1 + random(0, :suppliers - :s1 - 2)
\set pa :s1 * :per + random(0, :per / 2 - 1)
\set pb :pa + :per / 2
\set pc :s2 * :per + random(0, :per - 1)
\set q1 1000 * random(1, 5)
\set q2 1000 * random(1, 5)
\set q3 1000 * random(1, 5)
\set n random(1, 99999999999)
-- the bearer token's session (routes::caller)
SELECT s.user_id, u.org_id, o.status AS org_status, CASE WHEN s.revoked_at IS NULL THEN 0 ELSE 1 END AS session_revoked, CASE WHEN u.deactivated_at IS NULL THEN 0 ELSE 1 END AS user_deactivated FROM sessions s JOIN users u ON u.id = s.user_id JOIN organizations o ON o.id = u.org_id WHERE s.id = bench_id(10, 0);
BEGIN;
INSERT INTO idempotency_keys (scope, idem_key, request_hash, response_status, response_body, resource_id, created_at, expires_at) VALUES (bench_id(1, :b), bench_id(13, :n), md5(bench_id(13, :n)), 0, '', NULL, now(), now() + interval '1 day') ON CONFLICT (scope, idem_key) DO UPDATE SET request_hash = excluded.request_hash, response_status = 0, response_body = '', resource_id = NULL, created_at = excluded.created_at, expires_at = excluded.expires_at WHERE idempotency_keys.expires_at < now();
SELECT * FROM products WHERE id IN (bench_id(5, :pa), bench_id(5, :pb), bench_id(5, :pc));
SELECT * FROM organizations WHERE id IN (bench_id(1, :b), bench_id(3, :s1), bench_id(3, :s2));
SELECT id FROM products WHERE id IN (bench_id(5, :pa), bench_id(5, :pb), bench_id(5, :pc)) ORDER BY id FOR NO KEY UPDATE;
WITH w0 AS (INSERT INTO orders (id, buyer_org_id, buyer_user_id, credit_category, pairing_id, deliver_to, requested_date, total_fen, source, source_ref, payment_terms, deliver_by, created_at) VALUES (bench_id(7, :n), bench_id(1, :b), bench_id(2, :b), 'purchase', NULL, '省直机关第一食堂', current_date + 3, 40400, 'direct', NULL, 'on_account', NULL, now())), w1 AS (INSERT INTO supplier_orders (id, order_id, buyer_org_id, supplier_org_id, status, total_fen, shipment_note, invoice_number, acceptance_note, status_note, accepted_at, created_at, updated_at) VALUES (bench_id(8, 2 * :n::bigint), bench_id(7, :n), bench_id(1, :b), bench_id(3, :s1), 'placed', 8800, NULL, NULL, NULL, NULL, NULL, now(), now()), (bench_id(8, 2 * :n::bigint + 1), bench_id(7, :n), bench_id(1, :b), bench_id(3, :s2), 'placed', 31600, NULL, NULL, NULL, NULL, NULL, now(), now())), w2 AS (INSERT INTO order_lines (id, order_id, supplier_order_id, product_id, quantity_milli, unit_price_fen, amount_fen, accepted_quantity_milli, returned_quantity_milli) VALUES (bench_id(11, 3 * :n::bigint), bench_id(7, :n), bench_id(8, 2 * :n::bigint), bench_id(5, :pa), :q1::bigint, 880, 8800, NULL, 0), (bench_id(11, 3 * :n::bigint + 1), bench_id(7, :n), bench_id(8, 2 * :n::bigint), bench_id(5, :pb), :q2::bigint, 880, 8800, NULL, 0), (bench_id(11, 3 * :n::bigint + 2), bench_id(7, :n), bench_id(8, 2 * :n::bigint + 1), bench_id(5, :pc), :q3::bigint, 3600, 18000, NULL, 0)), w3 AS (INSERT INTO supplier_order_terms (supplier_order_id, payment_terms, payment_days, regulated, deliver_by, delivered_on, due_on, invoiced_fen, paid_fen, late_at) VALUES (bench_id(8, 2 * :n::bigint), 'on_account', 30, true, NULL, NULL, NULL, 0, 0, NULL), (bench_id(8, 2 * :n::bigint + 1), 'on_account', 30, true, NULL, NULL, NULL, 0, 0, NULL)), w4 AS (INSERT INTO outbox (id, to_addr, subject, body, status, attempts, next_attempt_at, claimed_until, last_error, created_at, sent_at) VALUES (bench_id(12, 2 * :n::bigint), 'contact@bench.test', 'New order ' || bench_id(8, 2 * :n::bigint), repeat('省直机关第一食堂 placed order with you. ', 8), 'pending', 0, now(), NULL, NULL, now(), NULL), (bench_id(12, 2 * :n::bigint + 1), 'contact@bench.test', 'New order ' || bench_id(8, 2 * :n::bigint + 1), repeat('省直机关第一食堂 placed order with you. ', 8), 'pending', 0, now(), NULL, NULL, now(), NULL)) UPDATE products SET reserved_milli = reserved_milli + (CASE id WHEN bench_id(5, :pa) THEN :q1::bigint WHEN bench_id(5, :pb) THEN :q2::bigint WHEN bench_id(5, :pc) THEN :q3::bigint END) WHERE id IN (bench_id(5, :pa), bench_id(5, :pb), bench_id(5, :pc)) AND COALESCE((SELECT SUM(l.remaining_milli) FROM lots l WHERE l.product_id = products.id AND l.best_before >= current_date AND NOT l.uncertified_batch), 0) - reserved_milli >= (CASE id WHEN bench_id(5, :pa) THEN :q1::bigint WHEN bench_id(5, :pb) THEN :q2::bigint WHEN bench_id(5, :pc) THEN :q3::bigint END) RETURNING id;
UPDATE idempotency_keys SET response_status = 201, response_body = repeat('{"id":"01a23022-12e0-779b-9a73-7e0f5e65f53a"}', 40), resource_id = bench_id(7, :n) WHERE scope = bench_id(1, :b) AND idem_key = bench_id(13, :n);
COMMIT;
