"""Failed-login throttling: slow down, then ban, an address that keeps failing to authenticate."""

from __future__ import annotations

import collections
import time


class LoginGuard:
    """Per-address failure record.

    Parameters
    ----------
    slow_after : int
        Failures within ``window_s`` after which each further answer is delayed (1 s, 2 s, 4 s ... 8 s).
    ban_after : int
        Failures within ``window_s`` after which the address is refused for ``ban_s``.
    window_s, ban_s : float
        Counting window and ban duration.
    clock : callable
        Monotonic seconds (injectable for tests).
    """

    def __init__(self, slow_after: int = 3, ban_after: int = 10, window_s: float = 600.0, ban_s: float = 900.0,
                 clock=time.monotonic):
        self.slow_after = slow_after
        self.ban_after = ban_after
        self.window_s = window_s
        self.ban_s = ban_s
        self._clock = clock
        self._failures: dict[str, collections.deque[float]] = {}
        self._banned_until: dict[str, float] = {}
        self.bans = 0

    def banned_for_s(self, address: str) -> float:
        """Seconds the address remains banned (0 when it is not banned)."""
        until = self._banned_until.get(address)
        if until is None:
            return 0.0
        left = until - self._clock()
        if left <= 0:
            del self._banned_until[address]
            return 0.0
        return left

    def failure(self, address: str) -> float:
        """Record a failed login; returns the delay (s) to wait before answering."""
        now = self._clock()
        q = self._failures.setdefault(address, collections.deque(maxlen=self.ban_after))
        q.append(now)
        while q and now - q[0] > self.window_s:
            q.popleft()
        if len(q) >= self.ban_after:
            self._banned_until[address] = now + self.ban_s
            self.bans += 1
            q.clear()
            return 0.0
        if len(q) > self.slow_after:
            return float(min(2 ** (len(q) - self.slow_after - 1), 8))
        if len(self._failures) > 100_000:  # bound memory under an address-spraying attack
            self._failures.clear()
        return 0.0

    def success(self, address: str) -> None:
        """A successful login clears the address's failures."""
        self._failures.pop(address, None)

    def banned(self) -> dict[str, float]:
        """Currently banned addresses with their remaining seconds."""
        return {a: s for a in list(self._banned_until) if (s := self.banned_for_s(a)) > 0}
