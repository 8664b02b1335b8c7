"""Two app processes behind nginx with sticky sessions (deploy/), as in production."""

from __future__ import annotations

import asyncio
import secrets
import urllib.error
import urllib.request

import pytest

from deploy.local import nginx_binary, start
from tests.browser.harness import free_port

pytestmark = [
    pytest.mark.deploy,
    pytest.mark.skipif(nginx_binary() is None, reason="nginx absent (make test l'installe)"),
]


def _get(url: str, cookie: str | None = None):
    """(status, headers, body) of a GET, with the route cookie of a known browser."""
    headers = {"Cookie": f"atlas_route={cookie}"} if cookie else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=20) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, b""


async def _open_page(url: str, cookie: str, page: str, query: str) -> tuple[set, list[str]]:
    """One browser-like session over the proxy: the page's titles and download URLs."""
    import websockets
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    titles, downloads = set(), []
    ws_url = url.replace("http", "ws", 1) + "/_stcore/stream"
    async with websockets.connect(
        ws_url,
        subprotocols=["streamlit"],
        additional_headers={"Cookie": f"atlas_route={cookie}"},
        max_size=64 * 2**20,
    ) as ws:
        msg = BackMsg()
        msg.rerun_script.query_string = query
        msg.rerun_script.page_name = page
        await ws.send(msg.SerializeToString())
        while True:
            fwd = ForwardMsg()
            fwd.ParseFromString(await asyncio.wait_for(ws.recv(), timeout=60))
            kind = fwd.WhichOneof("type")
            if kind == "delta" and fwd.delta.new_element.HasField("heading"):
                titles.add(fwd.delta.new_element.heading.body)
            if kind == "delta" and fwd.delta.new_element.HasField("link_button"):
                if "/api/fichiers/" in fwd.delta.new_element.link_button.url:
                    downloads.append(fwd.delta.new_element.link_button.url)
            if kind == "script_finished":
                return titles, downloads


def _run(coroutine):
    """asyncio.run in a thread of its own (Playwright's sync API may own this thread's loop)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@pytest.fixture(scope="module")
def deployment():
    with start(2, free_port()) as dep:
        yield dep


def test_both_processes_serve_and_a_browser_sticks_to_one(deployment):
    seen = {_get(f"{deployment.url}/_stcore/health")[1]["X-Atlas-Upstream"] for _ in range(16)}
    assert seen == {f"127.0.0.1:{p}" for p in deployment.backends}  # new browsers spread
    status, headers, _ = _get(f"{deployment.url}/_stcore/health")
    assert status == 200 and any("atlas_route=" in c for c in headers.get_all("Set-Cookie"))
    cookie = secrets.token_hex(8)
    health = f"{deployment.url}/_stcore/health"
    stuck = {_get(health, cookie)[1]["X-Atlas-Upstream"] for _ in range(8)}
    assert len(stuck) == 1  # a known browser always reaches the same process


def test_a_download_made_in_a_session_is_served_through_the_proxy(deployment):
    # a download link's recipe lives in the memory of the process that ran the page: only
    # sticky routing lets the browser fetch it (the file is built at that first request)
    cookie = secrets.token_hex(8)
    home = _get(f"{deployment.url}/_stcore/health", cookie)[1]["X-Atlas-Upstream"]
    titles, urls = _run(_open_page(deployment.url, cookie, "accueil", "epci=CALL"))
    assert "Atlas du Pôle Métropolitain de l'Artois" in titles and urls
    status, _, body = _get(deployment.url + urls[0], cookie)
    assert status == 200 and body.decode("utf-8-sig").startswith("Code INSEE;Commune")
    # issue 21: the link shared (mail, another browser) failed 2 times in 10 without the
    # cookie: it carries its route and reaches the process that holds its recipe
    assert f"route={cookie}" in urls[0]
    other = next(
        c
        for c in (secrets.token_hex(8) for _ in range(200))
        if _get(f"{deployment.url}/_stcore/health", c)[1]["X-Atlas-Upstream"] != home
    )
    for reader in [None] * 10 + [other] * 3:
        status, headers, body = _get(deployment.url + urls[0], reader)
        assert status == 200 and headers["X-Atlas-Upstream"] == home
        assert not headers.get_all("Set-Cookie")  # the reader's own route is left alone
    # without its route (an old link), another browser's process does not know it
    bare = urls[0].split("?")[0]
    assert _get(deployment.url + bare, other)[0] == 404


def test_the_deployed_proxy_discloses_neither_its_version_nor_the_process(deployment, tmp_path):
    """Issue 21: every response said `X-Atlas-Upstream: 127.0.0.1:18702` and nginx's version."""
    from deploy.local import nginx_config

    production = nginx_config(8000, [8601, 8602], tmp_path, debug=False)
    lines = [line.strip() for line in production.splitlines()]
    assert not [line for line in lines if line.startswith("add_header X-Atlas-Upstream")]
    assert "server_tokens off;" in production
    _, headers, _ = _get(f"{deployment.url}/_stcore/health")
    assert headers["Server"] == "nginx"  # no version
    assert headers["X-Content-Type-Options"] == "nosniff"  # the app's headers pass through


def test_stopping_a_deployment_leaves_no_folder_behind():
    with start(1, free_port()) as dep:
        workdir = dep.workdir
        assert workdir.is_dir()
    assert not workdir.exists()
