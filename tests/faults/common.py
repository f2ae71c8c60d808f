"""What the cases share: the demo logins, a product with stock, and supplier orders
brought to `delivered`, made over HTTP as a buyer and a supplier would.
"""
import datetime
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

from client import API, expect

ROLES = {
    "admin": "admin@demo.assist",
    "certifier": "certifier@demo.assist",
    "supplier": "supplier@demo.assist",
    "buyer": "buyer@demo.assist",
    "evaluator": "evaluator@demo.assist",
}
# The demo product the orders buy: the supplier@demo.assist cooperative's millet, 5,000 kg in stock.
PRODUCT_NAME = "阳原小米"


class Failures(list):
    """What a case found wrong; each case prints what it measured and adds to this."""

    def check(self, ok, message):
        if not ok:
            self.append(message)
            print(f"   FAILED: {message}", flush=True)
        return ok


def tokens(client):
    return {role: client.login(email) for role, email in ROLES.items()}


def millet(client, tok):
    """The id of the demo millet, from the supplier's own product list."""
    page = expect(client.get(f"{API}/products?limit=200", tok["supplier"]), 200).json
    for p in page["items"]:
        if p["name"] == PRODUCT_NAME:
            return p["id"]
    raise RuntimeError(f"no demo product {PRODUCT_NAME} for supplier@demo.assist")


def stock(client, tok, product):
    s = expect(client.get(f"{API}/products/{quote(product)}/stock", tok["supplier"]), 200).json
    return {k: s[k] for k in ("on_hand", "reserved", "available")}


def place_order(client, tok, product, quantity="10"):
    body = {
        "lines": [{"product_id": product, "quantity": quantity}],
        "credit_category": "purchase",
        "deliver_to": "省直机关第一食堂 (fault suite)",
        "requested_date": (datetime.date.today() + datetime.timedelta(days=3)).isoformat(),
    }
    a = client.post(f"{API}/orders", tok["buyer"], body, headers={"idempotency-key": str(uuid.uuid4())})
    return expect(a, 201).json


def delivered_orders(client, tok, product, n, quantity="10"):
    """n supplier orders of one line each, placed, confirmed, shipped and delivered:
    [(supplier order id, line id)]."""

    def one(_):
        order = place_order(client, tok, product, quantity)
        so = order["supplier_orders"][0]
        for step in ("confirm", "ship", "deliver"):
            expect(client.post(f"{API}/supplier-orders/{so['id']}/{step}", tok["supplier"], {"note": "fault suite"}), 200)
        return so["id"], so["lines"][0]["id"]

    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(one, range(n)))


def ledger_entries(client, tok):
    """Every ledger entry, following the pages."""
    out, cursor = [], None
    while True:
        path = f"{API}/ledger?limit=200" + (f"&cursor={quote(cursor)}" if cursor else "")
        page = expect(client.get(path, tok["evaluator"]), 200).json
        out.extend(page["items"])
        cursor = page.get("next_cursor")
        if not cursor:
            return out


def verify_ledger(client, tok):
    return expect(client.get(f"{API}/ledger/verify", tok["evaluator"]), 200).json


def quantity(text):
    """A quantity string ("9", "9.5") as thousandths, exactly."""
    whole, _, frac = text.partition(".")
    sign = -1 if whole.startswith("-") else 1
    return sign * (abs(int(whole)) * 1000 + int((frac + "000")[:3] or 0))
