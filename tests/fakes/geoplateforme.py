"""A local stand-in for the Géoplateforme (WMS-R, WFS), the BAN files and PVGIS.

Answers as the real services do (GeoTIFF tiles for a GetMap, paged GeoJSON for a
GetFeature, a gzipped BAN CSV, a PVGIS TMY in JSON) and misbehaves on demand: ``faults``
maps a file name (a tile's ``FILENAME``, ``wfs``, ``ban``, ``pvgis``) to the list of faults
its next requests get, one per request: ``429``, ``503``, ``cut`` (half the body, then the
connection closes), ``exception200`` (a WMS ServiceException with status 200), ``html200``,
``wrongbbox`` (a tile one metre off), ``empty`` (a tile without heights), ``stall`` (half the
body, then a long wait), ``trickle`` (the body a byte every 0.1 s), ``bomb`` (a small gzip
body that inflates to 60 MB), ``endless`` (a body without length that never ends),
``redirect_file`` (a redirect to ``file:///etc/passwd``), ``redirect_loop`` (a redirect to
itself), ``truncated_gzip`` (a gzip archive cut short, served whole), ``inf`` and ``huge``
(a tile with infinite heights, with heights of 10 000 km), ``emptywfs`` (a WFS page with no
feature and ``numberMatched`` 0), ``malformed`` (a WFS page whose features are not
objects). ``wfs_ignores_start`` makes the WFS serve its first page whatever ``STARTINDEX``
says, ``wfs_matched_unknown`` answers ``numberMatched: "unknown"`` (both allowed by WFS
2.0); past ``wfs_limit`` requests the WFS answers 400. Every request is logged. Used by
the fetch tests only: no test touches the internet.
"""

from __future__ import annotations

import gzip
import io
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import numpy as np

PVGIS_TABLE = (
    Path(__file__).resolve().parents[1]
    / "data"
    / "real"
    / "weather"
    / "pvgis-sarah2_tmy_50.811_3.310_2005-2020_data.csv"
)


def tile_bytes(
    bbox: tuple[float, float, float, float], empty: bool = False, bad: str = ""
) -> bytes:
    """A 2000 × 2000 float32 GeoTIFF of heights over ``bbox`` (Lambert-93), as the WMS sends;
    ``bad``: ``"inf"`` or ``"huge"`` spoils a corner of it."""
    import rasterio
    from rasterio.io import MemoryFile
    from rasterio.transform import from_bounds

    left, bottom, right, top = bbox
    rows = np.linspace(0, 1, 2000, dtype="float32")[:, None]
    data = (40.0 + 5 * rows + np.zeros((1, 2000), dtype="float32")).astype("float32")
    if empty:
        data[:] = -9999.0
    if bad:
        data[:10, :10] = np.inf if bad == "inf" else 1e7
    profile = {
        "driver": "GTiff",
        "width": 2000,
        "height": 2000,
        "count": 1,
        "dtype": "float32",
        "crs": rasterio.crs.CRS.from_epsg(2154),
        "transform": from_bounds(left, bottom, right, top, 2000, 2000),
        "nodata": -9999.0,
        "compress": "deflate",
    }
    with MemoryFile() as mem:
        with mem.open(**profile) as dst:
            dst.write(data, 1)
        return mem.read()


def buildings(bbox, n: int) -> list[dict]:
    """``n`` small square buildings spread over ``bbox`` (GeoJSON features, Lambert-93)."""
    left, bottom, right, top = bbox
    side = int(np.ceil(np.sqrt(n)))
    out = []
    for i in range(n):
        x = left + 10 + (i % side) * (right - left - 20) / side
        y = bottom + 10 + (i // side) * (top - bottom - 20) / side
        ring = [[x, y], [x + 8, y], [x + 8, y + 8], [x, y + 8], [x, y]]
        out.append(
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [ring]},
                "properties": {"cleabs": f"BATIMENT{i:016d}", "nature": "Indifférenciée"},
            }
        )
    return out


def _first_xy(geometry: dict) -> list[float]:
    """The first vertex of a GeoJSON point or polygon."""
    coords = geometry["coordinates"]
    while isinstance(coords[0], list):
        coords = coords[0]
    return coords


def pvgis_json() -> bytes:
    """A PVGIS TMY answer (``outputformat=json``) from the real table in tests/data/real."""
    import pandas as pd

    table = pd.read_csv(PVGIS_TABLE)
    months = [{"month": m, "year": 2015} for m in range(1, 13)]
    doc = {
        "inputs": {"location": {"latitude": 50.811, "longitude": 3.31, "elevation": 30.0}},
        "outputs": {"months_selected": months, "tmy_hourly": table.to_dict("records")},
        "meta": {"inputs": {}, "outputs": {}},
    }
    return json.dumps(doc).encode()


class FakeServices:
    """The server and what it was asked; ``url`` is its base address."""

    def __init__(self, wfs_features: list[dict] | None = None) -> None:
        self.faults: dict[str, list[str]] = {}
        self.log: list[tuple[str, str]] = []  # (service, name)
        self.stalled = threading.Event()
        self.wfs_features = wfs_features or []
        self.wfs_ignores_start = False
        self.wfs_matched_unknown = False
        self.wfs_limit = 10_000
        self._lock = threading.Lock()
        self._tiles: dict[str, bytes] = {}
        handler = self._handler()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeServices:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def requested(self, service: str) -> list[str]:
        return [name for s, name in self.log if s == service]

    def _fault(self, name: str) -> str | None:
        with self._lock:
            queue = self.faults.get(name)
            return queue.pop(0) if queue else None

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                return

            def _send(self, status: int, body: bytes, ctype: str, headers=None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def _misbehave(self, fault: str | None, body: bytes, ctype: str) -> bool:
                if fault == "429":
                    self._send(429, b"trop", "text/plain", {"Retry-After": "2"})
                elif fault == "503":
                    self._send(503, b"indisponible", "text/plain")
                elif fault == "exception200":
                    xml = (
                        b'<?xml version="1.0"?><ServiceExceptionReport version="1.3.0">'
                        b"<ServiceException>Internal error</ServiceException>"
                        b"</ServiceExceptionReport>"
                    )
                    self._send(200, xml, "text/xml")
                elif fault == "html200":
                    self._send(200, b"<!DOCTYPE html><html><body>Maintenance</body></html>",
                               "text/html")  # fmt: skip
                elif fault == "trickle":
                    self.send_response(200)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    try:
                        for i in range(min(len(body), 600)):  # a minute at most
                            self.wfile.write(body[i : i + 1])
                            self.wfile.flush()
                            time.sleep(0.1)
                    except OSError:
                        pass  # the client gave up
                    self.close_connection = True
                elif fault == "bomb":
                    packed = gzip.compress(b"\0" * 60_000_000, compresslevel=9)
                    self._send(200, packed, ctype, {"Content-Encoding": "gzip"})
                elif fault == "endless":
                    self.send_response(200)
                    self.send_header("Content-Type", ctype)
                    self.end_headers()  # no length: the body ends when the connection does
                    try:
                        for _ in range(2000):  # 2 GB at most
                            self.wfile.write(b"\0" * 1_000_000)
                    except OSError:
                        pass
                    self.close_connection = True
                elif fault == "redirect_file":
                    self._send(302, b"", "text/plain", {"Location": "file:///etc/passwd"})
                elif fault == "redirect_loop":
                    self._send(302, b"", "text/plain", {"Location": self.path})
                elif fault == "truncated_gzip":
                    self._send(200, body[: len(body) * 2 // 3], ctype)
                elif fault in ("cut", "stall"):
                    self.send_response(200)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    if fault == "stall":
                        fake.stalled.set()
                        time.sleep(30)
                    self.close_connection = True
                else:
                    return False
                return True

            def do_GET(self) -> None:
                url = urlparse(self.path)
                q = {
                    k.upper(): v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()
                }
                if url.path.endswith("/wms-r"):
                    name = q["FILENAME"]
                    fake.log.append(("wms", name))
                    fault = fake._fault(name)
                    bbox = tuple(float(v) for v in q["BBOX"].split(","))
                    if fault == "wrongbbox":
                        bbox = (bbox[0] + 1, bbox[1], bbox[2] + 1, bbox[3])
                    bad = fault if fault in ("inf", "huge") else ""
                    key = f"{name}-{fault == 'empty'}-{bad}-{bbox}"
                    if key not in fake._tiles:
                        fake._tiles[key] = tile_bytes(bbox, empty=fault == "empty", bad=bad)
                    body = fake._tiles[key]
                    if not self._misbehave(fault, body, "image/geotiff"):
                        self._send(200, body, "image/geotiff")
                elif url.path.endswith("/wfs/ows"):
                    fake.log.append(("wfs", q["BBOX"]))
                    if len(fake.requested("wfs")) > fake.wfs_limit:
                        self._send(400, b"trop de pages", "text/plain")
                        return
                    box = [float(v) for v in q["BBOX"].split(",")[:4]]
                    inside = [
                        f
                        for f in fake.wfs_features
                        if box[0] <= _first_xy(f["geometry"])[0] < box[2]
                        and box[1] <= _first_xy(f["geometry"])[1] < box[3]
                    ]
                    start, count = int(q.get("STARTINDEX", 0)), int(q.get("COUNT", 1000))
                    if fake.wfs_ignores_start:
                        start = 0
                    fault = fake._fault("wfs")
                    features = inside[start : start + count]
                    if fault == "emptywfs":
                        inside, features = [], []
                    elif fault == "malformed":
                        features = ["x"] * len(features)
                    page = {
                        "type": "FeatureCollection",
                        "numberMatched": "unknown" if fake.wfs_matched_unknown else len(inside),
                        "numberReturned": len(features),
                        "features": features,
                    }
                    body = json.dumps(page).encode()
                    if not self._misbehave(fault, body, "application/json"):
                        self._send(200, body, "application/json")
                elif url.path.endswith(".csv.gz"):
                    fake.log.append(("ban", url.path.rsplit("/", 1)[-1]))
                    text = (
                        "id;numero;rep;nom_voie;code_postal;code_insee;nom_commune;lon;lat\n"
                        "62498_0001_00001;1;;Rue de la Gare;62300;62498;Lens;2.83;50.43\n"
                    )
                    buf = io.BytesIO()
                    with gzip.GzipFile(fileobj=buf, mode="wb") as gz:
                        gz.write(text.encode())
                    body = buf.getvalue()
                    if not self._misbehave(fake._fault("ban"), body, "application/gzip"):
                        self._send(200, body, "application/gzip")
                elif url.path.endswith("/tmy"):
                    fake.log.append(("pvgis", url.query))
                    body = pvgis_json()
                    if not self._misbehave(fake._fault("pvgis"), body, "application/json"):
                        self._send(200, body, "application/json")
                else:
                    self._send(404, b"introuvable", "text/plain")

        return Handler
