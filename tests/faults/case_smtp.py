"""The mail server down, then up: the emails written meanwhile wait in the outbox, then
every one of them is delivered exactly once (each outbox row's id is the Message-ID the
sink receives)."""
import collections
import time

from common import Failures, place_order

ORDERS = 8
DOWN_SECS = 4
DELIVER_WITHIN_SECS = 60


def outbox(pg):
    """{id: (status, attempts)} of every queued email."""
    return {r[0]: (r[1], int(r[2])) for r in pg.psql("SELECT id, status, attempts FROM outbox", db="faults")}


def run(stack, api, tok, product):
    f = Failures()
    pg, smtp, client = stack.pg, stack.smtp, api.client
    before = set(outbox(pg))
    smtp.stop()
    stopped = time.monotonic()
    for _ in range(ORDERS):
        place_order(client, tok, product)
    time.sleep(max(0.0, DOWN_SECS - (time.monotonic() - stopped)))
    waiting = {k: v for k, v in outbox(pg).items() if k not in before}
    tried = sum(1 for status, attempts in waiting.values() if attempts > 0)
    print(f"   SMTP down {time.monotonic() - stopped:.1f} s: {len(waiting)} emails queued by {ORDERS} orders,"
          f" {tried} of them tried and refused, statuses {dict(collections.Counter(s for s, _ in waiting.values()))}")
    f.check(len(waiting) >= ORDERS, f"{ORDERS} orders queued only {len(waiting)} emails")
    f.check(all(s == "pending" for s, _ in waiting.values()), "an email left `pending` while the mail server was down")
    f.check(tried > 0, "no delivery was attempted while the mail server was down")

    smtp.start()
    returned = time.monotonic()
    delivered_in = None
    while time.monotonic() - returned < DELIVER_WITHIN_SECS:
        now = outbox(pg)
        if all(now[k][0] == "sent" for k in waiting):
            delivered_in = time.monotonic() - returned
            break
        time.sleep(0.25)
    time.sleep(2)  # anything sent twice would arrive now
    received = collections.Counter(smtp.message_ids())
    mine = {k: received.get(f"<{k}@assist-market.local>", 0) for k in waiting}
    lost = [k for k, n in mine.items() if n == 0]
    doubled = [k for k, n in mine.items() if n > 1]
    repeated = [m for m, n in received.items() if n > 1]
    print(f"   mail server back: all {len(waiting)} marked sent "
          f"{'after %.1f s' % delivered_in if delivered_in is not None else 'NOT within %d s' % DELIVER_WITHIN_SECS};"
          f" received {len(mine) - len(lost)} of them, lost {len(lost)}, duplicated {len(doubled)};"
          f" {sum(received.values())} emails in the sink, {len(repeated)} Message-IDs repeated")
    f.check(delivered_in is not None, f"not every queued email was sent within {DELIVER_WITHIN_SECS} s")
    f.check(not lost, f"{len(lost)} emails never reached the sink, e.g. {lost[:3]}")
    f.check(not doubled and not repeated, f"emails delivered twice: {doubled[:3] or repeated[:3]}")
    return f
