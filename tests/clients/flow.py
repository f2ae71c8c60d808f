"""The purchase flow through the Python client generated from the served OpenAPI
document by openapi-python-client, unedited (tests/run generates it; it is not
committed). Usage: flow.py BASE_URL CLIENT_DIR, against a service with demo data.

Log in, search the catalogue, place a bulk order, confirm, ship, deliver, accept,
read the ledger entry and verify the ledger."""
import datetime
import sys
import uuid

base_url, client_dir = sys.argv[1], sys.argv[2]
sys.path.insert(0, client_dir)

from assist_market_api_client import AuthenticatedClient, Client  # noqa: E402
from assist_market_api_client.api.auth import get_me, login  # noqa: E402
from assist_market_api_client.api.catalog import search_catalog  # noqa: E402
from assist_market_api_client.api.ledger import list_ledger_entries, verify_ledger  # noqa: E402
from assist_market_api_client.api.orders import (  # noqa: E402
    accept_supplier_order,
    confirm_supplier_order,
    deliver_supplier_order,
    place_order,
    ship_supplier_order,
)
from assist_market_api_client.models import (  # noqa: E402
    AcceptLine,
    Acceptance,
    ActionNote,
    CatalogPage,
    CreditCategory,
    LedgerPage,
    LoginRequest,
    Me,
    NewOrder,
    NewOrderLine,
    Order,
    ShipBody,
    SupplierOrder,
    SupplierOrderStatus,
    TokenPair,
    VerifyResult,
)

PASSWORD = "demo-pass-2026"
public = Client(base_url=base_url, raise_on_unexpected_status=True)


def ok(response, kind):
    assert isinstance(response.parsed, kind), f"{response.status_code}: {response.content!r}"
    return response.parsed


def session(email: str) -> AuthenticatedClient:
    pair = ok(login.sync_detailed(client=public, body=LoginRequest(email=email, password=PASSWORD)), TokenPair)
    return AuthenticatedClient(base_url=base_url, token=pair.access_token, raise_on_unexpected_status=True)


buyer = session("buyer@demo.assist")
supplier = session("supplier@demo.assist")
evaluator = session("evaluator@demo.assist")

supplier_org = ok(get_me.sync_detailed(client=supplier), Me).organization.id
catalog = ok(search_catalog.sync_detailed(client=public, limit=100), CatalogPage)
item = next(
    i
    for i in catalog.items
    if i.supplier_org_id == supplier_org and float(i.available) >= float(i.min_order_qty) > 0
)
quantity = item.min_order_qty
order = ok(
    place_order.sync_detailed(
        client=buyer,
        idempotency_key=f"client-flow-{uuid.uuid4()}",
        body=NewOrder(
            credit_category=CreditCategory.PURCHASE,
            deliver_to="Canteen No. 1",
            requested_date=datetime.date.today() + datetime.timedelta(days=3),
            lines=[NewOrderLine(product_id=item.id, quantity=quantity)],
        ),
    ),
    Order,
)
so = order.supplier_orders[0]
assert so.supplier_org_id == item.supplier_org_id
# Shipping takes its own body (a note and, optionally, the lots); the others a note.
for step, status, body in [
    (confirm_supplier_order, SupplierOrderStatus.CONFIRMED, ActionNote(note="ok")),
    (ship_supplier_order, SupplierOrderStatus.SHIPPED, ShipBody(note="truck 1")),
    (deliver_supplier_order, SupplierOrderStatus.DELIVERED, ActionNote(note="ok")),
]:
    got = ok(step.sync_detailed(so.id, client=supplier, body=body), SupplierOrder)
    assert got.status == status, got.status
accepted = ok(
    accept_supplier_order.sync_detailed(
        so.id,
        client=buyer,
        body=Acceptance(
            invoice_number=f"INV-{uuid.uuid4().hex[:8]}",
            lines=[AcceptLine(line_id=line.id, accepted_quantity=line.quantity) for line in so.lines],
        ),
    ),
    SupplierOrder,
)
assert accepted.status == SupplierOrderStatus.ACCEPTED, accepted.status

entries = []
cursor = None
while True:
    page = ok(
        list_ledger_entries.sync_detailed(client=evaluator, buyer=order.buyer_org_id, limit=100, **({"cursor": cursor} if cursor else {})),
        LedgerPage,
    )
    entries += [e for e in page.items if e.supplier_order_id == so.id]
    cursor = page.next_cursor if isinstance(page.next_cursor, str) else None
    if not cursor:
        break
assert entries, "the accepted supplier order has a ledger entry"
verified = ok(verify_ledger.sync_detailed(client=evaluator), VerifyResult)
assert verified.ok, verified
print(f"client flow ok: order {order.id}, {len(entries)} ledger entries, ledger of {verified.entries} verifies")
