"""Keeps the cyclic garbage collector's long pauses out of the caster's fan-out.

Every connected client is a few dozen long-lived objects (task, coroutine, stream reader and writer,
transport, protocol, session). CPython's full collection walks every tracked object: at 10,000 clients
it stalls the event loop for hundreds of milliseconds (measured with ``benchmarks/caster_load.py``),
and whichever fan-out it lands in is late by that much. Freezing (:func:`gc.freeze`) moves the objects
alive now out of the collector's sight, so its passes only walk what is newer. Freezing is cheap (a
list splice) and is done when the client population has grown. Objects frozen are never collected,
so a cycle left by a client that has gone would stay; when many have gone since the last full
collection, one full collection is run (unfreeze, collect, freeze again) right after a fan-out burst,
when the loop has the most slack before the next epoch.
"""

from __future__ import annotations

import gc
import time


class CollectorPolicy:
    """When to freeze the collector's view and when to run a full collection.

    Parameters
    ----------
    grow_clients : int
        Freeze when this many more clients are connected than at the last freeze.
    churn_share : float
        A full collection is due when more than this share of the clients counted at the last freeze
        (and at least ``grow_clients``) have disconnected since the last full collection.
    max_wait_s : float
        A due full collection waits for the end of a burst at most this long (no station streaming).
    enabled : bool
        False leaves the collector as CPython configures it (for comparison runs).
    """

    def __init__(self, grow_clients: int = 256, churn_share: float = 0.25, max_wait_s: float = 10.0,
                 enabled: bool = True):
        self.grow_clients = grow_clients
        self.churn_share = churn_share
        self.max_wait_s = max_wait_s
        self.enabled = enabled
        self.clients_at_freeze = 0
        self.departed = 0
        self.due_since_s: float | None = None
        self.freezes = 0
        self.full_collections = 0

    def client_gone(self) -> None:
        """A client connection ended (its objects may be frozen and in a cycle)."""
        self.departed += 1

    def tick(self, n_clients: int) -> None:
        """Once a second: freeze after growth; note when a full collection is due (run it if it waited
        ``max_wait_s`` for a burst to end)."""
        if not self.enabled:
            return
        now = time.monotonic()
        if self.due_since_s is None and self.departed > max(self.grow_clients,
                                                            self.churn_share * self.clients_at_freeze):
            self.due_since_s = now
        if self.due_since_s is not None:
            if now - self.due_since_s >= self.max_wait_s:
                self.collect_full(n_clients)
        elif n_clients >= self.clients_at_freeze + self.grow_clients:
            gc.collect(1)  # young garbage is collected, not frozen (walks only the young generations)
            gc.freeze()
            self.freezes += 1
            self.clients_at_freeze = n_clients

    def after_burst(self, n_clients: int) -> None:
        """A fan-out burst has just ended: the moment for a due full collection."""
        if self.enabled and self.due_since_s is not None:
            self.collect_full(n_clients)

    def collect_full(self, n_clients: int) -> None:
        """Collect everything, frozen objects included, then freeze the survivors."""
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        self.full_collections += 1
        self.departed = 0
        self.due_since_s = None
        self.clients_at_freeze = n_clients
