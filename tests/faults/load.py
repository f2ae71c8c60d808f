"""Steady load from a few threads, with every answer recorded under the phase it was
sent in ("up", "down", "back", ...), so that a case can say what each phase looked like.
"""
import collections
import statistics
import threading
import time


class Load:
    """`requests` is a list of functions (client) -> Answer, sent round-robin by each thread."""

    def __init__(self, client, requests, threads=4, phase="up"):
        self.client = client
        self.requests = requests
        self.threads = threads
        self.phase = phase
        self.answers = collections.defaultdict(list)  # phase -> [(sent_at, Answer)]
        self.started = {}  # phase -> monotonic time it started
        self.ended = {}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._workers = []

    def __enter__(self):
        self.set_phase(self.phase)
        for i in range(self.threads):
            t = threading.Thread(target=self._run, args=(i,), daemon=True)
            t.start()
            self._workers.append(t)
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for t in self._workers:
            t.join(30)
        self.ended[self.phase] = time.monotonic()

    def set_phase(self, name):
        now = time.monotonic()
        with self._lock:
            if self.phase in self.started:
                self.ended[self.phase] = now
            self.phase = name
            self.started[name] = now

    def _run(self, i):
        n = i
        while not self._stop.is_set():
            request = self.requests[n % len(self.requests)]
            n += 1
            with self._lock:
                phase = self.phase
            sent = time.monotonic()
            answer = request(self.client)
            with self._lock:
                self.answers[phase].append((sent, answer))

    def stats(self, phase):
        return Stats(phase, self.answers.get(phase, []), self.ended.get(phase, time.monotonic()) - self.started[phase])


class Stats:
    def __init__(self, phase, answers, seconds):
        self.phase = phase
        self.answers = [a for _, a in answers]
        self.sent_at = [t for t, _ in answers]
        self.seconds = max(seconds, 1e-6)
        self.by_status = collections.Counter(a.status for a in self.answers)

    @property
    def count(self):
        return len(self.answers)

    @property
    def ok(self):
        return sum(n for s, n in self.by_status.items() if s is not None and 200 <= s < 400)

    @property
    def per_second(self):
        return self.count / self.seconds

    def latency(self, q):
        xs = sorted(a.seconds for a in self.answers)
        if not xs:
            return 0.0
        return xs[min(len(xs) - 1, int(q * len(xs)))]

    def __str__(self):
        statuses = ", ".join(f"{s if s is not None else 'no answer'}: {n}" for s, n in sorted(
            self.by_status.items(), key=lambda kv: (kv[0] is None, kv[0] or 0)))
        med = statistics.median(a.seconds for a in self.answers) if self.answers else 0.0
        return (f"{self.phase:>6}: {self.count:5d} requests in {self.seconds:5.1f} s = {self.per_second:6.1f}/s;"
                f" latency p50 {med * 1000:.0f} ms, p99 {self.latency(0.99) * 1000:.0f} ms,"
                f" max {self.latency(1.0) * 1000:.0f} ms; {statuses}")
