"""Static chart export: one warm headless Chromium (kaleido 1.x) per process, started on the first export.

kaleido's own `start_sync_server()` waits forever when the browser cannot start (its worker thread dies before it
takes the first task), so this keeps an equivalent warm `kaleido.Kaleido` on an event loop of its own, with a
start-up timeout and a time budget per export. Starting a browser costs about 2-5 s; a warm render about 0.15-0.5 s
(docs/PERFORMANCE.md). Several request threads may render at once: the browser has `tabs` tabs and kaleido queues
the rest.

Failures stay with the export that met them (issue 12, item 5):
- an export over its time budget (which starts once the browser is up) is cancelled alone; the browser and the
  other exports carry on (kaleido reloads the tab and puts it back);
- a browser that died is restarted once, by whichever request notices first: each render remembers the browser
  it used and only discards that one, so requests that notice later use the new browser instead of discarding it,
  and starts are serialised by a lock (renderers recover one at a time);
- turns at the browser (`tabs` at a time) are shared fairly between users (`FairTurns`), so one user's queue of
  heavy exports does not hold up another user's export.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import os
import shutil
import threading
import time
from collections.abc import Hashable, Iterator, Sequence
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from typing import Any

import plotly.graph_objects as go

from components.export_render import RendererUnavailable
from dashboard.export_limits import MAX_TIMEOUT_SECONDS, START_TIMEOUT_S, ExportRefused

log = logging.getLogger(__name__)
DEFAULT_BROWSERS = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")
RETRY_AFTER_S = 30.0  # after a failed start, answer 503 at once for this long instead of retrying every request


def default_browser_path() -> str | None:
    """BROWSER_PATH (the variable choreographer reads), else Debian's Chromium or the first browser on PATH."""
    if explicit := os.environ.get("BROWSER_PATH"):
        return explicit
    for name in DEFAULT_BROWSERS:
        if found := shutil.which(name):
            return found
    return None


class FairTurns:
    """Turns at the browser, `slots` at a time, shared fairly between users (fair queueing with equal weights).

    A request's tag is one more than the later of its user's previous tag and the tag of the last request that
    started; the smallest tag goes next. So four users with two heavy exports each do not keep a fifth user's one
    PNG waiting behind all eight: it goes after at most one export of each of them.
    """

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self._cond = threading.Condition()
        self._busy = 0
        self._waiting: list[tuple[float, int]] = []  # a heap of (tag, arrival)
        self._last: dict[Hashable, float] = {}
        self._virtual = 0.0
        self._arrivals = itertools.count()

    @contextmanager
    def turn(self, user: Hashable, timeout: float) -> Iterator[None]:
        """Wait for this request's turn (FutureTimeout after `timeout` seconds), hold it for the block."""
        deadline = time.monotonic() + timeout
        with self._cond:
            tag = max(self._virtual, self._last.get(user, 0.0)) + 1
            self._last[user] = tag
            entry = (tag, next(self._arrivals))
            heapq.heappush(self._waiting, entry)
            try:
                while self._busy >= self.slots or self._waiting[0] != entry:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise FutureTimeout
                    self._cond.wait(left)
            except BaseException:
                self._waiting.remove(entry)
                heapq.heapify(self._waiting)
                self._cond.notify_all()
                raise
            heapq.heappop(self._waiting)
            self._busy += 1
            self._virtual = tag
        try:
            yield
        finally:
            with self._cond:
                self._busy -= 1
                self._last = {u: t for u, t in self._last.items() if t > self._virtual}
                self._cond.notify_all()


class ChartRenderer:
    """Renders plotly figures to PNG, SVG or PDF bytes in a browser kept warm between calls."""

    def __init__(self, browser_path: str | None, *, tabs: int = 2, start_timeout: float = START_TIMEOUT_S,
                 render_timeout: float = 20.0) -> None:
        self.browser_path = browser_path
        self.tabs = tabs
        self.start_timeout = start_timeout
        self.render_timeout = render_timeout
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._kaleido: Any = None
        self._failed_at: float | None = None
        self.starts = 0  # browsers started so far (the first one and each restart)
        self.turns = FairTurns(tabs)
        self._failure = ""

    @property
    def running(self) -> bool:
        return self._kaleido is not None

    def render(self, figure: go.Figure | dict, fmt: str, *, width: int, height: int, scale: float = 1,
               timeout: float | None = None, user: Hashable = None) -> bytes:
        return self.render_many([figure], fmt, width=width, height=height, scale=scale, timeout=timeout,
                                user=user)[0]

    def render_many(self, figures: Sequence[go.Figure | dict], fmt: str, *, width: int, height: int,
                    scale: float = 1, timeout: float | None = None, user: Hashable = None) -> list[bytes]:
        """Each figure rendered (in parallel over the browser's tabs) within `timeout` seconds (default
        `render_timeout`) from the moment the browser is up, waiting for a turn included (turns are shared fairly
        between `user`s); RendererUnavailable when no browser, ExportRefused (503) when over time."""
        opts = {"format": fmt, "width": width, "height": height, "scale": scale}
        specs = [f.to_plotly_json() if isinstance(f, go.Figure) else f for f in figures]
        budget = self.render_timeout if timeout is None else timeout
        self._ensure_started()  # the budget starts once the browser is up
        deadline = time.monotonic() + budget
        try:
            with self.turns.turn(user, budget):
                return self._render_once_more(specs, opts, deadline)
        except FutureTimeout:
            log.warning("an export ran over its %.0f s budget and was cancelled", budget)
            raise ExportRefused(f"this export took longer than {budget:g} s and was stopped; choose fewer "
                                "facilities or months, or try again", status=503, retry_after=5) from None

    def _render_once_more(self, specs: list[dict], opts: dict[str, Any], deadline: float) -> list[bytes]:
        """Render; when the browser died under us, restart it once (unless another request did) and retry."""
        for attempt in (1, 2):
            kaleido, loop = self._ensure_started()
            future = asyncio.run_coroutine_threadsafe(self._render(kaleido, specs, opts), loop)
            try:
                return future.result(timeout=max(0.05, deadline - time.monotonic()))
            except FutureTimeout:
                future.cancel()  # this export only: the browser and the other renders carry on
                if not _alive(kaleido):
                    self._discard_if(kaleido, "the browser process exited")
                raise
            except Exception as exc:
                if attempt == 2 or not self._browser_gone(exc):
                    raise
                self._discard_if(kaleido, f"browser went away ({type(exc).__name__})")
        raise AssertionError("unreachable")

    def close(self) -> None:
        with self._lock:
            self._discard("closed")

    @staticmethod
    async def _render(kaleido: Any, specs: list[dict], opts: dict[str, Any]) -> list[bytes]:
        return list(await asyncio.gather(*(kaleido.calc_fig(spec, opts=opts) for spec in specs)))

    def _ensure_started(self) -> tuple[Any, asyncio.AbstractEventLoop]:
        with self._lock:
            if self._kaleido is not None and not _alive(self._kaleido):
                self._discard("the browser process exited")  # noticed first here: restarted once, below
            if self._kaleido is not None and self._loop is not None:
                return self._kaleido, self._loop
            if self._failed_at is not None and time.monotonic() - self._failed_at < RETRY_AFTER_S:
                raise RendererUnavailable(self._failure)
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="chart-renderer", daemon=True).start()
            future = asyncio.run_coroutine_threadsafe(self._open(), loop)
            try:
                kaleido = future.result(timeout=self.start_timeout)
            except Exception as exc:
                future.cancel()
                loop.call_soon_threadsafe(loop.stop)
                self._failed_at = time.monotonic()
                self._failure = (f"chart images are unavailable: the headless browser "
                                 f"({self.browser_path or 'not found'}) could not be started "
                                 f"({type(exc).__name__}); CSV exports still work")
                log.error("%s: %s", self._failure, exc)
                raise RendererUnavailable(self._failure) from None
            self._loop, self._kaleido, self._failed_at = loop, kaleido, None
            self.starts += 1
            log.info("chart renderer started (%s, %d tabs)", self.browser_path, self.tabs)
            return kaleido, loop

    async def _open(self) -> Any:
        import kaleido  # imported on first export: importing it is not free and most processes never export

        if self.browser_path is None or not os.access(self.browser_path, os.X_OK):
            raise FileNotFoundError(f"no executable browser at {self.browser_path!r}")
        # mathjax=False: kaleido would fetch MathJax from a CDN, and this network may be closed.
        # kaleido's own per-render timeout is only a backstop behind each export's budget.
        renderer = kaleido.Kaleido(n=self.tabs, timeout=MAX_TIMEOUT_SECONDS + 5, path=self.browser_path,
                                   mathjax=False)
        await renderer.open()
        return renderer

    def _discard_if(self, kaleido: Any, why: str) -> None:
        """Discard the browser `kaleido` if it is still the current one (another request may have replaced it)."""
        with self._lock:
            if self._kaleido is kaleido:
                self._discard(why)

    def _discard(self, why: str) -> None:
        kaleido, loop = self._kaleido, self._loop
        self._kaleido = self._loop = None
        if kaleido is None or loop is None:
            return
        log.warning("chart renderer stopped: %s", why)
        try:
            asyncio.run_coroutine_threadsafe(kaleido.close(), loop).result(timeout=10)
        except Exception as exc:  # closing a dead browser may fail; the loop goes either way
            log.debug("closing the renderer: %s", exc)
        loop.call_soon_threadsafe(loop.stop)

    @staticmethod
    def _browser_gone(exc: BaseException) -> bool:
        name = type(exc).__name__
        return "Closed" in name or "Broken" in name or isinstance(exc, ConnectionError | EOFError)


def _alive(kaleido: Any) -> bool:
    """Whether the browser process behind `kaleido` is still running (True when that cannot be told)."""
    process = getattr(kaleido, "subprocess", None)
    poll = getattr(process, "poll", None)
    return poll is None or poll() is None
