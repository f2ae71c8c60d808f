"""SMTP test sink: accepts every message on loopback and writes each one to a
folder as <uuid>.eml, with the envelope recipients in an X-Envelope-To header,
so that tests can read what was received.

    python3 tests/smtp_sink.py --port 2525 --dir /tmp/mail
"""
import argparse
import asyncio
import os
import signal
import uuid

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, folder):
        self.folder = folder

    async def handle_DATA(self, server, session, envelope):
        name = os.path.join(self.folder, f"{uuid.uuid4()}.eml")
        tmp = name + ".part"
        with open(tmp, "wb") as f:
            f.write(b"X-Envelope-To: " + ", ".join(envelope.rcpt_tos).encode() + b"\r\n")
            data = envelope.content if isinstance(envelope.content, bytes) else envelope.content.encode()
            f.write(data)
        os.rename(tmp, name)
        return "250 OK"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--dir", required=True)
    a = p.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    controller = Controller(Handler(a.dir), hostname=a.host, port=a.port)
    controller.start()
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(f"smtp sink on {a.host}:{a.port} -> {a.dir}", flush=True)
    loop.run_until_complete(stop.wait())
    controller.stop()


if __name__ == "__main__":
    main()
