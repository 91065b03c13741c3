"""The plan of bench_chat.py: how many sockets, senders and messages, and which visitor does what."""

from __future__ import annotations

SLUG = "bench-market"
VENDORS = 10
SOCKETS = 1000
VISITORS = SOCKETS - VENDORS  # every visitor device holds a socket in the loaded phase
LATENCY_MESSAGES = 150  # per direction and phase
WORKERS = 100  # concurrent senders in the throughput runs
DEVICES_PER_WORKER = 3  # each worker moves to its next visitor device before the flood limit
PER_DEVICE_BUDGET = 28  # under the visitor flood limit of 30 a minute
# Which visitors do what (by number), so no device sends more than its budget in a minute:
LATENCY_SENDERS = range(0, LATENCY_MESSAGES)  # one message per latency run
_POOL = WORKERS * DEVICES_PER_WORKER
BASELINE_VISITORS = range(VISITORS - VENDORS, VISITORS)  # one per stall: recipients in the baseline
THROUGHPUT_POOLS = (  # fresh senders for each throughput run (the last: the baseline repeated)
    range(LATENCY_MESSAGES, LATENCY_MESSAGES + _POOL),
    range(LATENCY_MESSAGES + _POOL, LATENCY_MESSAGES + 2 * _POOL),
    range(LATENCY_MESSAGES + 2 * _POOL, BASELINE_VISITORS.start),
)
THROUGHPUT_SECONDS = 10.0
MAX_LATENCY_RATE = 20.0  # messages/s, both directions together: a third of the measured
MIN_LATENCY_RATE = 5.0  # throughput, within these bounds, so latency is not queueing
CONNECT_CONCURRENCY = 50
DELIVERY_WAIT = 15.0
IDLE_SECONDS = 5.0
