"""Large downloads under load: N people ask the whole territory's roofs at once.

Starts the app (``serve.py``, demo store), fires ``--people`` simultaneous requests for
the GeoPackage of every commune of the store (the « Potentiel du territoire » link), and
reports the server's resident memory before, at its peak and 10 s after, with the time
the last person waited. Issue 21 measured 391 → 767 MB that stayed, with 16 people.

    .venv/bin/python benchmarks/downloads.py --people 16
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.load import rss_mb, start_server  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=16)
    parser.add_argument("--fmt", choices=["gpkg", "csv"], default="gpkg")
    args = parser.parse_args()

    import pyogrio

    from layers.settings import Settings
    from layers.solar.store import StoreLayout

    store = Settings.from_env({}).cadastre_path
    roofs = pyogrio.read_dataframe(StoreLayout(store).gpkg, layer="toits", columns=["insee"])
    insee = sorted(set(roofs["insee"]))
    proc, url = start_server()
    try:
        query = "&".join(f"insee={code}" for code in insee)
        link = f"{url}/api/telechargements/toits.{args.fmt}?{query}"
        urllib.request.urlopen(f"{url}/", timeout=60).read()  # the app's first run
        time.sleep(2)
        before = rss_mb(proc.pid)
        peak = [before]
        done = threading.Event()

        def watch() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], rss_mb(proc.pid))
                time.sleep(0.05)

        watcher = threading.Thread(target=watch)
        watcher.start()
        start = time.perf_counter()

        def fetch(_i: int) -> tuple[int, int]:
            try:
                with urllib.request.urlopen(link, timeout=600) as resp:
                    return resp.status, len(resp.read())
            except urllib.error.HTTPError as err:
                return err.code, 0

        with ThreadPoolExecutor(args.people) as pool:
            answers = list(pool.map(fetch, range(args.people)))
        waited = time.perf_counter() - start
        done.set()
        watcher.join()
        time.sleep(10)
        after = rss_mb(proc.pid)
        codes = {c: sum(1 for a in answers if a[0] == c) for c in {a[0] for a in answers}}
        print(
            f"{args.people} personnes, {len(insee)} communes ({args.fmt}, "
            f"{max(a[1] for a in answers) / 1e6:.1f} Mo) : réponses {codes}, "
            f"dernière après {waited:.1f} s ; mémoire du serveur {before:.0f} Mo avant, "
            f"{peak[0]:.0f} Mo au plus haut, {after:.0f} Mo 10 s après"
        )
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
