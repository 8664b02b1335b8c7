"""Load benchmark: simulated users speaking Streamlit's own websocket protocol (no browser).

    .venv/bin/python benchmarks/load.py [--users 10] [--rounds 2] [--url http://host:port]
                                        [--per-page]

Each user opens one websocket (``/_stcore/stream``, as the browser does) and asks for the
pages of the mix one after the other, ``--rounds`` times, with no pause: a rerun is a
``BackMsg.rerun_script`` carrying the page and its query string, and it ends at the
server's ``script_finished`` message. Prints reruns/s, p50/p95/max latency and the server's
RSS (when this script started it, or with ``--pid``). Without ``--url`` it starts one
``streamlit run serve.py`` on a free port; with ``--processes N`` it starts N of them behind
nginx with sticky sessions (``deploy/``, as in production) and measures through the proxy,
RSS summed over the N processes. ``--per-page`` then runs each page of the mix alone (4
users, 10 rounds) and prints the server's CPU per rerun of that page: where a slower rerun
comes from. Traffic goes to loopback only, bounded in count.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MIX = [
    ("accueil", "epci=CALL"),
    ("parcs", "epci=CAHC"),
    # a roof's card first (its faces, modules, plan and estimate: issue 27): the page reads
    # its roof from the URL on a session's first visit, and keeps it for the later ones
    ("cadastre_solaire", "toit=BATIMENT0700000000000010"),
    ("friches", "epci=CABBALR"),
    ("cadastre_solaire", "epci=CALL"),
]


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children [MB] (Linux /proc)."""
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its children so far [s] (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    return sum(int(f) for f in fields[11:15]) / ticks


TITLES: set[str] = set()  # page titles seen: proof that each page really ran


async def user(url: str, rounds: int, latencies: list[float], errors: list[str], mix=MIX) -> None:
    import websockets
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    titles = TITLES
    ws_url = url.replace("http", "ws", 1).rstrip("/") + "/_stcore/stream"
    async with websockets.connect(
        ws_url, subprotocols=["streamlit"], max_size=64 * 2**20, open_timeout=30
    ) as ws:
        for _ in range(rounds):
            for page, query in mix:
                msg = BackMsg()
                msg.rerun_script.query_string = query
                msg.rerun_script.page_name = page
                t0 = time.perf_counter()
                await ws.send(msg.SerializeToString())
                while True:
                    raw = await asyncio.wait_for(ws.recv(), timeout=120)
                    fwd = ForwardMsg()
                    fwd.ParseFromString(raw)
                    kind = fwd.WhichOneof("type")
                    if kind == "session_event" and fwd.session_event.HasField(
                        "script_compilation_exception"
                    ):
                        errors.append(f"{page}: erreur de script")
                    if kind == "delta" and fwd.delta.new_element.HasField("exception"):
                        errors.append(f"{page}: {fwd.delta.new_element.exception.message[:80]}")
                    if kind == "delta" and fwd.delta.new_element.HasField("heading"):
                        titles.add(fwd.delta.new_element.heading.body)
                    if kind == "script_finished":
                        break
                latencies.append(time.perf_counter() - t0)


async def run(url: str, users: int, rounds: int, mix=MIX) -> tuple[list[float], list[str], float]:
    latencies: list[float] = []
    errors: list[str] = []
    t0 = time.perf_counter()
    results = await asyncio.gather(
        *(user(url, rounds, latencies, errors, mix) for _ in range(users)), return_exceptions=True
    )
    errors += [f"connexion : {r!r}"[:120] for r in results if isinstance(r, Exception)]
    return latencies, errors, time.perf_counter() - t0


def start_server(env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    sys.path.insert(0, str(ROOT))
    from deploy.local import start_app, wait_ready
    from tests.browser.harness import free_port

    port = free_port()
    proc = start_app(port, env, None)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(f"{url}/_stcore/health", 60)
    except RuntimeError:
        proc.kill()
        raise SystemExit("Streamlit n'a pas démarré") from None
    return proc, url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--url", help="serveur déjà lancé (sinon un processus est démarré)")
    parser.add_argument("--pid", type=int, help="processus dont mesurer la mémoire (RSS)")
    parser.add_argument(
        "--processes", type=int, default=0, help="N processus derrière nginx (deploy/)"
    )
    parser.add_argument(
        "--per-page", action="store_true", help="puis chaque page seule : CPU serveur par rerun"
    )
    args = parser.parse_args()
    proc = None
    deployment = None
    url = args.url
    pids: list[int] = [args.pid] if args.pid else []
    if url is None and args.processes:
        sys.path.insert(0, str(ROOT))
        from deploy.local import start
        from tests.browser.harness import free_port

        deployment = start(args.processes, free_port())
        url, pids = deployment.url, deployment.pids
    elif url is None:
        proc, url = start_server()
        pids = [proc.pid]

    def rss() -> float:
        return sum(rss_mb(p) for p in pids) if pids else float("nan")

    try:
        # warm-up: every process compiles its pages and fills its caches (directly, not
        # through the proxy, whose routing is random for new browsers)
        for warm in [f"http://127.0.0.1:{p}" for p in deployment.backends] if deployment else [url]:
            asyncio.run(run(warm, 1, 2))
        base = rss()
        pages = ", ".join(p for p, _ in MIX)
        where = f"{args.processes} processus derrière nginx" if deployment else "1 processus"
        print(f"serveur {url} ({where}) ; mélange {pages} ; RSS après chauffe {base:.0f} Mo")
        print(
            " users  reruns  durée s  reruns/s   p50 s   p95 s   max s  erreurs  RSS Mo  Mo/session"
            "  CPU serveur ms/rerun  CPU client ms/rerun"
        )
        for n in args.users:
            cpu0 = sum(cpu_seconds(p) for p in pids)
            me0 = time.process_time()
            lat, errors, wall = asyncio.run(run(url, n, args.rounds))
            server_ms = (sum(cpu_seconds(p) for p in pids) - cpu0) * 1000 / max(1, len(lat))
            client_ms = (time.process_time() - me0) * 1000 / max(1, len(lat))
            lat.sort()
            p95 = lat[min(len(lat) - 1, int(0.95 * len(lat)))] if lat else float("nan")
            now = rss()
            print(
                f"{n:6d} {len(lat):7d} {wall:8.1f} {len(lat) / wall:9.2f} "
                f"{statistics.median(lat) if lat else float('nan'):7.2f} {p95:7.2f} "
                f"{max(lat) if lat else float('nan'):7.2f} {len(errors):8d} {now:7.0f} "
                f"{(now - base) / n:10.1f} {server_ms:21.0f} {client_ms:20.0f}"
            )
            for e in errors[:3]:
                print("   ", e)
        print("titres reçus :", " | ".join(sorted(t for t in TITLES if t)))
        if args.per_page:
            print("\npage seule (4 users × 10 tours)  CPU serveur ms/rerun  reruns/s")
            for page, query in MIX:
                cpu0 = sum(cpu_seconds(p) for p in pids)
                lat, errors, wall = asyncio.run(run(url, 4, 10, [(page, query)]))
                server_ms = (sum(cpu_seconds(p) for p in pids) - cpu0) * 1000 / max(1, len(lat))
                print(f"  {page:<31}{server_ms:20.0f}{len(lat) / wall:10.1f}")
    finally:
        if proc:
            proc.terminate()
            proc.wait(timeout=10)
        if deployment:
            deployment.stop()


if __name__ == "__main__":
    main()
