"""`kill -9` of one of two API processes during concurrent acceptances; then it is started
again and every acceptance that got no answer is sent again. Each acceptance must have
happened exactly once: the ledger verifies, holds one credit per accepted line, and the
product's stock moved by exactly what the ledger says."""
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from client import API
from common import Failures, delivered_orders, ledger_entries, quantity, stock, verify_ledger

ORDERS = 48
ORDERED, ACCEPTED = "10", "9"


def accept(client, tok, so, line):
    body = {"lines": [{"line_id": line, "accepted_quantity": ACCEPTED}], "invoice_number": f"INV-{so[:8]}",
            "note": "fault suite"}
    return client.post(f"{API}/supplier-orders/{so}/accept", tok["buyer"], body)


def run(stack, a, b, tok, product):
    f = Failures()
    made = time.monotonic()
    orders = delivered_orders(b.client, tok, product, ORDERS, ORDERED)
    print(f"   {ORDERS} supplier orders delivered in {time.monotonic() - made:.1f} s")
    stock0 = stock(b.client, tok, product)
    entries0 = len(ledger_entries(b.client, tok))

    # Half the acceptances go to A, half to B, 8 at a time; A is killed once a few have answered.
    answers = {}
    answered_by_a = threading.Semaphore(0)

    def send(i):
        so, line = orders[i]
        api = a if i % 2 == 0 else b
        ans = accept(api.client, tok, so, line)
        answers[so] = (api.name, ans)
        if api is a and ans.status is not None:
            answered_by_a.release()

    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(send, i) for i in range(ORDERS)]
        for _ in range(4):
            answered_by_a.acquire(timeout=30)
        a.kill9()
        killed_at = time.monotonic()
        for fu in futures:
            fu.result()
    lost = [so for so, (_, ans) in answers.items() if ans.status is None]
    by_status = {}
    for name, ans in answers.values():
        by_status.setdefault(f"{name} {ans.status if ans.status is not None else 'no answer'}", 0)
        by_status[f"{name} {ans.status if ans.status is not None else 'no answer'}"] += 1
    print(f"   acceptances during the kill: {dict(sorted(by_status.items()))}")

    restart = a.start()
    print(f"   A restarted in {restart:.1f} s ({time.monotonic() - killed_at:.1f} s after the kill)")
    retried = {}
    for so in lost:
        line = dict(orders)[so]
        ans = accept(a.client, tok, so, line)
        retried[ans.status] = retried.get(ans.status, 0) + 1
        answers[so] = ("A again", ans)
    print(f"   sent again: {len(lost)} (200: accepted now; 409: had been accepted before the kill): {retried}")
    f.check(all(s in (200, 409) for s in retried), f"a repeated acceptance answered {retried}")
    f.check(all(ans.status in (200, 409) for _, ans in answers.values()),
            "an acceptance answered neither 200 nor 409: "
            + str([ans for _, ans in answers.values() if ans.status not in (200, 409)][:2]))

    statuses = [b.client.get(f"{API}/supplier-orders/{so}", tok["buyer"]).json["status"] for so, _ in orders]
    f.check(all(s == "accepted" for s in statuses), f"supplier orders not accepted: {statuses.count('accepted')} of {ORDERS}")
    v = verify_ledger(a.client, tok)
    entries = ledger_entries(a.client, tok)
    ours = [e for e in entries if e["supplier_order_id"] in dict(orders)]
    per_order = {}
    for e in ours:
        per_order[e["supplier_order_id"]] = per_order.get(e["supplier_order_id"], 0) + 1
    credited = sum(quantity(e["quantity"]) for e in ours)
    stock1 = stock(a.client, tok, product)
    moved = quantity(stock0["on_hand"]) - quantity(stock1["on_hand"])
    released = quantity(stock0["reserved"]) - quantity(stock1["reserved"])
    print(f"   ledger verify: {v}; {len(entries) - entries0} new entries, {len(ours)} for these orders")
    print(f"   stock before {stock0}, after {stock1}: on_hand down {moved / 1000:g}, reserved down {released / 1000:g},"
          f" ledger credited {credited / 1000:g}")
    f.check(v["ok"] and v["entries"] == len(entries), f"the ledger does not verify: {v}")
    f.check(len(ours) == ORDERS and all(n == 1 for n in per_order.values()),
            f"expected one credit per supplier order, got {len(ours)} entries for {len(per_order)} orders")
    f.check(credited == ORDERS * quantity(ACCEPTED), f"the ledger credited {credited / 1000:g}, not {ORDERS * int(ACCEPTED)}")
    f.check(moved == credited, f"on_hand fell by {moved / 1000:g} but the ledger credited {credited / 1000:g}")
    f.check(released == ORDERS * quantity(ORDERED), f"reserved fell by {released / 1000:g}, not {ORDERS * int(ORDERED)}")
    f.check(quantity(stock1["on_hand"]) >= quantity(stock1["reserved"]), f"on_hand < reserved: {stock1}")
    return f
