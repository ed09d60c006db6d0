"""When a part of ``journeys up`` crashes: restart it after a growing pause, unless it keeps crashing.

A part that crashes ``limit`` times within ``window`` seconds is given up on (then the whole stack
stops, saying why); each restart waits twice as long as the one before, up to ``longest`` seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RestartPolicy:
    limit: int = 5
    window: float = 300.0
    first: float = 1.0
    longest: float = 30.0
    crashes: list[float] = field(default_factory=list)

    def after_crash(self, now: float) -> float | None:
        """Record a crash at ``now`` (monotonic seconds); the pause before restarting, or None to
        give up because the part crashed ``limit`` times within ``window``."""
        self.crashes = [at for at in self.crashes if now - at < self.window] + [now]
        if len(self.crashes) >= self.limit:
            return None
        return min(self.first * 2.0 ** (len(self.crashes) - 1), self.longest)

    def describe(self) -> str:
        return f"crash {len(self.crashes)} of {self.limit} allowed within {self.window:.0f}s"
