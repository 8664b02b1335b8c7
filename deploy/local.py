"""Run N Atlas PMA processes behind nginx on this machine (tests, load benchmark, trials).

    .venv/bin/python -m deploy.local --processes 2 --port 8600

Starts ``streamlit run serve.py`` on ports ``port+1 … port+N`` and an unprivileged nginx on
``port`` with ``deploy/nginx-atlas.conf.template`` (the production file, filled in), waits
until every process answers through the proxy, and stops everything on Ctrl-C. Needs the
Debian ``nginx`` (or ``nginx-light``) package. The processes share the environment: point
``ATLAS_SIGNALETIQUE`` at PostGIS to share the signage store.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "deploy" / "nginx-atlas.conf.template"


def nginx_binary() -> str | None:
    """The nginx executable, if installed (Debian puts it in /usr/sbin)."""
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None
    )


DEBUG_UPSTREAM = "add_header X-Atlas-Upstream $upstream_addr always;"


def nginx_config(listen: int, backends: list[int], workdir: Path, debug: bool = True) -> str:
    """A complete nginx.conf for an unprivileged run: the template inside an http block.

    ``debug`` adds a header naming the process that answered (tests and benchmarks check
    stickiness with it); the template itself, as deployed, never sends it.
    """
    servers = "\n".join(f"    server 127.0.0.1:{p} max_fails=0;" for p in backends)
    site = TEMPLATE.read_text(encoding="utf-8")
    site = site.replace("@@SERVERS@@", servers).replace("@@LISTEN@@", f"127.0.0.1:{listen}")
    if debug:
        site = site.replace("# @@DEBUG_UPSTREAM@@", DEBUG_UPSTREAM + " #")
    temp = {name: workdir / name for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for path in temp.values():
        path.mkdir(parents=True, exist_ok=True)
    return f"""worker_processes 1;
pid {workdir / "nginx.pid"};
error_log {workdir / "error.log"} warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {temp["client_body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
{site}
}}
"""


def wait_ready(url: str, timeout: float) -> None:
    """Return once ``url`` answers 200; RuntimeError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} ne répond pas après {timeout:.0f} s")
        time.sleep(0.3)


@dataclass
class Deployment:
    """Running processes; ``url`` is the proxy's address, ``pids`` the app processes."""

    url: str
    backends: list[int]
    workdir: Path
    processes: list[subprocess.Popen] = field(default_factory=list)
    nginx: subprocess.Popen | None = None

    @property
    def pids(self) -> list[int]:
        """Process ids of the app processes (for RSS)."""
        return [p.pid for p in self.processes]

    def stop(self) -> None:
        """Stop nginx and the app processes (SIGTERM, then SIGKILL after 10 s)."""
        procs = [p for p in [self.nginx, *self.processes] if p is not None]
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)
        shutil.rmtree(self.workdir, ignore_errors=True)  # logs, nginx's temp folders

    def __enter__(self) -> Deployment:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_app(port: int, env: dict[str, str] | None, log: Path | None) -> subprocess.Popen:
    """One ``streamlit run serve.py`` (app and routes) on 127.0.0.1:``port``."""
    out = open(log, "wb") if log else subprocess.DEVNULL
    return subprocess.Popen(
        [
            sys.executable, "-m", "streamlit", "run", "serve.py",
            "--server.port", str(port), "--server.address", "127.0.0.1",
            "--server.headless", "true", "--browser.gatherUsageStats", "false",
            "--server.fileWatcherType", "none",
        ],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=out,
        stderr=subprocess.STDOUT,
    )  # fmt: skip


def start(
    processes: int, port: int, env: dict[str, str] | None = None, timeout: float = 120.0
) -> Deployment:
    """Start ``processes`` app processes and nginx in front of them; wait until they serve."""
    binary = nginx_binary()
    if binary is None:
        raise RuntimeError("nginx absent : apt-get install nginx-light")
    workdir = Path(tempfile.mkdtemp(prefix="atlas-deploy-"))
    backends = [port + 1 + i for i in range(processes)]
    dep = Deployment(url=f"http://127.0.0.1:{port}", backends=backends, workdir=workdir)
    try:
        for p in backends:
            dep.processes.append(start_app(p, env, workdir / f"app-{p}.log"))
        conf = workdir / "nginx.conf"
        conf.write_text(nginx_config(port, backends, workdir), encoding="utf-8")
        dep.nginx = subprocess.Popen(
            [binary, "-c", str(conf), "-p", str(workdir), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=open(workdir / "nginx.stderr", "wb"),
        )
        for p in backends:
            wait_ready(f"http://127.0.0.1:{p}/_stcore/health", timeout)
        wait_ready(f"{dep.url}/_stcore/health", timeout)
    except BaseException:
        dep.stop()
        raise
    return dep


def main() -> None:
    """Command line: start, print the address, serve until Ctrl-C."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--port", type=int, default=8600)
    args = parser.parse_args()
    with start(args.processes, args.port) as dep:
        print(f"Atlas PMA : {dep.url} ({args.processes} processus : {dep.backends})")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
