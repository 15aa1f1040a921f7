"""A small text progress bar on stderr (no dependency): the one place this package writes to a stream."""

from __future__ import annotations

import io
import sys
import time


def _format_seconds(s: float) -> str:
    s = max(0.0, s)
    if s < 60.0:
        return f"{s:.0f} s"
    if s < 3600.0:
        return f"{s / 60.0:.1f} min"
    return f"{s / 3600.0:.1f} h"


class ProgressBar:
    """Chunk progress of a campaign: ``campaign [#####.....] 12/40 chunks, 3 failed, 1.2 s/chunk,
    eta 34 s``.

    On a terminal the line is redrawn in place (carriage return); otherwise (a log file, a pipe) one
    line is written per update. Silent when `enabled` is False. The stream is looked up when the bar
    is made (default: `sys.stderr` at that moment).

    Args:
        total: number of chunks in the campaign.
        done: chunks already finished (a resumed campaign); they do not count towards the rate.
        enabled: write anything at all.
        stream: where to write (default `sys.stderr`).
        label: text in front of the bar.
        width: bar width in characters.
    """

    def __init__(
        self,
        total: int,
        *,
        done: int = 0,
        enabled: bool = True,
        stream: io.TextIOBase | None = None,
        label: str = "campaign",
        width: int = 30,
    ):
        self.total = int(total)
        self.done = int(done)
        self.failed = 0
        self.stream = sys.stderr if stream is None else stream
        self.enabled = bool(enabled) and self.stream is not None
        self.label = label
        self.width = int(width)
        self._start_done = self.done
        self._t0 = time.monotonic()
        self._tty = self.enabled and self.stream.isatty()
        if self.enabled and self.done:
            self._write(f"resuming: {self.done}/{self.total} chunks already finished")
        self._draw()

    def _write(self, text: str) -> None:
        if self._tty:
            self.stream.write("\r" + text + "\x1b[K")
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def line(self) -> str:
        """The current status line."""
        frac = self.done / self.total if self.total else 1.0
        n_fill = int(round(frac * self.width))
        bar = "#" * n_fill + "." * (self.width - n_fill)
        text = f"{self.label} [{bar}] {self.done}/{self.total} chunks"
        if self.failed:
            text += f", {self.failed} failed"
        ran = self.done - self._start_done
        if ran > 0:
            per_chunk = (time.monotonic() - self._t0) / ran
            text += f", {per_chunk:.2g} s/chunk, eta {_format_seconds(per_chunk * (self.total - self.done))}"
        return text

    def _draw(self) -> None:
        if self.enabled:
            self._write(self.line())

    def update(self, n: int = 1, *, failed: int = 0) -> None:
        """Mark `n` more chunks finished, with `failed` more rows that failed for good."""
        self.done += int(n)
        self.failed += int(failed)
        self._draw()

    def close(self) -> None:
        """End the line on a terminal."""
        if self._tty:
            self.stream.write("\n")
            self.stream.flush()
            self._tty = False
