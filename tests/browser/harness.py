"""Real-browser harness: a Streamlit server on a free port and an offline Chromium.

Every request that does not go to the local server is answered here: Leaflet's CDN files
from the copies fetched from the npm registry (``static/vendor``), map tiles with a blank
PNG, anything else with an empty 200 (an abort would blank the map).
"""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[2]
VENDOR = ROOT / "static" / "vendor"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("ATLAS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
BLANK_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)
MAP_FRAME = 'iframe[title="streamlit_folium.st_folium"]'
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def streamlit_server(
    env_extra: dict[str, str] | None = None,
    timeout: float = 60,
    extra_args: list[str] | None = None,
) -> Iterator[str]:
    """Run ``streamlit run serve.py`` (app + its routes) and yield its base URL once healthy."""
    port = free_port()
    env = {**os.environ, **(env_extra or {})}
    ARTIFACTS.mkdir(exist_ok=True)
    log = (ARTIFACTS / f"streamlit-{port}.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(ROOT / "serve.py"),
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
            *(extra_args or []),
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Streamlit n'a pas démarré (voir {log.name})")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


class OfflineRouter:
    """Answers every non-local request; records what it answered, for assertions."""

    def __init__(self) -> None:
        self.served: list[str] = []
        self.tiles = 0
        self.blanked: list[str] = []

    @staticmethod
    def local_copy(path: str) -> Path | None:
        """The vendored file (from npm) that a CDN path asks for, if we have it."""
        name = path.rsplit("/", 1)[-1]
        if "leaflet@" in path:
            local = VENDOR / "leaflet" / path.partition("/dist/")[2]
        elif "/leaflet.markercluster/" in path:
            local = VENDOR / "leaflet.markercluster" / name
        else:
            return None
        return local if local.is_file() else None

    def __call__(self, route) -> None:
        url = route.request.url
        parsed = urlparse(url)
        if parsed.hostname in LOCAL_HOSTS:
            route.continue_()
            return
        local = self.local_copy(parsed.path)
        if local is not None:
            self.served.append(url)
            mime = {".css": "text/css", ".js": "application/javascript", ".png": "image/png"}
            route.fulfill(
                status=200,
                body=local.read_bytes(),
                content_type=mime.get(local.suffix, "application/octet-stream"),
            )
        elif "TILEMATRIX" in url or parsed.hostname == "tile.openstreetmap.org":
            self.tiles += 1
            route.fulfill(status=200, body=BLANK_PNG, content_type="image/png")
        else:
            self.blanked.append(url)
            route.fulfill(status=200, body=b"", content_type="text/plain")


# A frame is settled when its Leaflet map (if any) neither zooms nor pans, its tiles are in,
# and no finite CSS animation or transition (fades of clusters, popups, tiles) still runs.
FRAME_SETTLED = """() => {
    const m = window.map;
    if (m && (m._animatingZoom || (m._panAnim && m._panAnim._inProgress)
              || ![...document.querySelectorAll('img.leaflet-tile')].every(t => t.complete)))
        return false;
    return document.getAnimations().every(a => a.playState !== 'running'
        || a.effect === null || a.effect.getComputedTiming().endTime === Infinity);
}"""

AXE = next(iter(sorted((ROOT / ".cache").glob("axe-core-*/axe.min.js"))), None)


def axe_violations(page, impacts: tuple[str, ...] = ("serious", "critical")) -> list[str]:
    """Run axe-core in the page **and in every frame** (maps included); one line a problem.

    axe's default rule set (WCAG 2.0–2.2 A/AA and best practices; RGAA 4.1 builds on
    WCAG 2.1). ``make axe`` fetches axe-core from the npm registry into ``.cache/``.
    """
    assert AXE is not None, "axe-core absent : `make axe` (registre npm)"
    script = AXE.read_text(encoding="utf-8")
    found = []
    for frame in page.frames:
        if frame.is_detached():
            continue
        # never measure mid-animation: a cluster bubble fading in reads as low contrast
        frame.wait_for_function(FRAME_SETTLED, timeout=30_000)
        frame.evaluate(script)
        violations = frame.evaluate(
            """async () => {
                const r = await axe.run(document, {resultTypes: ['violations']});
                return r.violations.map(v => ({id: v.id, impact: v.impact,
                    nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 3)}));
            }"""
        )
        where = "page" if frame == page.main_frame else f"cadre {frame.name or frame.url[:40]}"
        found += [
            f"{where} : {v['id']} ({v['impact']}) {v['nodes']}"
            for v in violations
            if v["impact"] in impacts
        ]
    return found


MAP_IDLE = """() => !!window.map && !window.map._animatingZoom
    && !(window.map._panAnim && window.map._panAnim._inProgress)
    && [...document.querySelectorAll('img.leaflet-tile')].every(t => t.complete)"""


def wait_map_idle(page, timeout_ms: int = 30_000) -> None:
    """Wait until the page's (first) map exists, no zoom or pan runs and its tiles are in.

    Instead of a fixed pause after ``fitBounds`` or a scroll: waits as long as needed.
    """
    frame = page.locator(MAP_FRAME).first.element_handle(timeout=timeout_ms).content_frame()
    frame.wait_for_function(MAP_IDLE, timeout=timeout_ms)


def download_from_link(page, act, timeout_ms: int = 30_000):
    """The download started by ``act()`` on a link (a new tab, or the page itself)."""
    got: list = []

    def keep(download) -> None:
        got.append(download)

    page.context.on("page", lambda p: p.on("download", keep))
    page.on("download", keep)
    act()
    waited = 0
    while not got and waited < timeout_ms:
        page.wait_for_timeout(100)
        waited += 100
    assert got, "no download started"
    return got[0]


def english_left(page, words) -> list[str]:
    """Streamlit's English ``words`` still on the page: as text, ``aria-label``, ``title``
    or ``placeholder`` (what a reader sees and what a screen reader says)."""
    return page.evaluate(
        """(words) => {
            const out = [], walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
            let node;
            while ((node = walker.nextNode())) {
                const t = node.nodeValue.trim();
                if (words.includes(t)) out.push('texte : ' + t);
            }
            for (const e of document.querySelectorAll('[aria-label], [title], [placeholder]'))
                for (const a of ['aria-label', 'title', 'placeholder']) {
                    const v = (e.getAttribute(a) || '').trim();
                    if (words.includes(v) || /^(day|month|year), /.test(v)) out.push(a + ' : ' + v);
                }
            return out;
        }""",
        list(words),
    )


# Streamlit shows its running icon while a rerun is under way (a map reporting its view on
# load, a widget's change): what is clicked then may be re-drawn under the pointer
APP_IDLE = """() => !document.querySelector(
    '[data-testid="stStatusWidget"] [data-testid^="stStatusWidgetRunning"]')"""


def choose_option(page, field, name, tries: int = 3, timeout_ms: int = 30_000) -> None:
    """Open the list of ``field`` (a select or multiselect) and click the option ``name``.

    As a person would: the app is let finish its rerun first, and when a late rerun (a map
    reporting its view on a loaded machine) closes the list before the click, it is opened
    again.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for _ in range(tries):
        page.wait_for_function(APP_IDLE, timeout=timeout_ms)
        field.click()
        try:
            page.get_by_role("option", name=name).click(timeout=timeout_ms // 3)
            return
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
    raise AssertionError(f"option {name!r} never offered by {field}")
