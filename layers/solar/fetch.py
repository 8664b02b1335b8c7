"""From IGN's Géoplateforme, the BAN and PVGIS to a folder ready for ``solar build``.

``pma-atlas solar fetch --area CODES --out DIR`` writes::

    DIR/lidar/LHD_FXX_XXXX_YYYY_MNS_O_0M50_LAMB93_IGN69.tif   (and …_MNT_…)
    DIR/batiment.gpkg              BD TOPO « batiment » of the area (layer ``batiment``)
    DIR/adresses-62.csv.gz         the BAN département file
    DIR/climat/pvgis-tmy_LAT_LON.json   a PVGIS TMY at the area's centroid
    DIR/fetch.json                 what came from where and when, with checksums

The LiDAR HD rasters are asked the way IGN's own download links ask them (the ``url`` of
the Géoplateforme's ``IGNF_MNS-LIDAR-HD:dalle`` features): a WMS-R 1.3.0 GetMap of layer
``IGNF_LIDAR-HD_MNS_ELEVATION.ELEVATIONGRIDCOVERAGE.LAMB93`` (``…_MNT_…``), GeoTIFF,
EPSG:2154, 2000 × 2000 px, BBOX ``x·1000 − 0.25, (y − 1)·1000 + 0.25, x·1000 + 999.75,
y·1000 + 0.25`` for tile ``x_y``, ``FILENAME`` the tile's IGN name. Every tile touching the
area is fetched, plus the ring around them that lends the build its halo.

A real network is unreliable: requests run ``workers`` at a time; 429 (``Retry-After``
honoured), 5xx, time-outs and cut connections are retried with exponential back-off; a
file is written under a temporary name and renamed only once complete **and valid** (a
GeoTIFF of the tile's exact grid; a WMS ``ServiceException`` or an HTML page answered with
status 200 is retried, never saved); a rerun asks nothing for the files it has.
"""

from __future__ import annotations

import gzip
import json
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from layers.solar.errors import SolarError
from layers.solar.grid import lidar_file_name, tile_bounds, tile_box, tiles_touching
from layers.solar.inputs import check_tile, sha256_file

LAYERS = {
    "MNS": "IGNF_LIDAR-HD_MNS_ELEVATION.ELEVATIONGRIDCOVERAGE.LAMB93",
    "MNT": "IGNF_LIDAR-HD_MNT_ELEVATION.ELEVATIONGRIDCOVERAGE.LAMB93",
}
WHAT = ("lidar", "batiments", "adresses", "climat")
TILE_MB = 16.0  # a LiDAR HD MNS/MNT GeoTIFF, 2000² float32, uncompressed: the upper bound [MB]
# the largest body each answer may have (a bigger one is cut and refused: a gzip bomb, a
# body without length that never ends) [bytes]
MAX_BYTES = {
    "tile": int(TILE_MB * 1e6) + 1_000_000,  # the raster and its GeoTIFF header
    "json": 64_000_000,  # a WFS page of 1 000 buildings is ~1–3 MB, a PVGIS TMY ~2 MB
    "ban": 400_000_000,  # adresses-62.csv.gz is ~40 MB
}
BUILDINGS_MB_PER_KM2 = 0.6  # the BD TOPO batiment layer of a built-up km² (GeoPackage) [MB]
BAN_MB = 60.0  # adresses-62.csv.gz
WFS_PAGE = 1000
USER_AGENT = "atlas-pma/0.1 (cadastre solaire du Pôle Métropolitain de l'Artois; pma-atlas)"


class FetchError(SolarError):
    """A service answered something unusable (after every retry)."""


@dataclass(frozen=True)
class Services:
    """Where each service is (settings: ``ATLAS_GEOPF_WMS`` …; an intranet mirror works)."""

    wms: str = "https://data.geopf.fr/wms-r"
    wfs: str = "https://data.geopf.fr/wfs/ows"
    ban: str = "https://adresse.data.gouv.fr/data/ban/adresses/latest/csv"
    pvgis: str = "https://re.jrc.ec.europa.eu/api/v5_3"
    user_agent: str = USER_AGENT
    timeout: float = 60.0  # [s] per read, and the least a whole file is given
    retries: int = 6
    backoff: float = 1.0  # [s] first wait; doubled at every retry (capped at 60 s)
    # [bytes/s] the slowest a body may come: a file gets max(timeout, its largest size /
    # min_rate) in all, then is retried (a server trickling a byte every 2 s never trips a
    # per-read time-out); 50 kB/s gives a 16 MB tile 5 min 20 s
    min_rate: float = 50_000.0

    def deadline_s(self, max_bytes: int) -> float:
        """The time a whole file of at most ``max_bytes`` is given [s].

        Parameters
        ----------
        max_bytes
            The largest the file may be [bytes].

        Returns
        -------
        float
            ``max(timeout, max_bytes / min_rate)``.
        """
        return max(self.timeout, max_bytes / self.min_rate)


@dataclass
class FetchReport:
    """What a fetch did: files fetched, already there, empty (no LiDAR yet), failed."""

    fetched: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    planned: list[str] = field(default_factory=list)
    download_mb: float = 0.0
    disk_mb: float = 0.0

    def summary(self) -> str:
        """The closing lines of ``pma-atlas solar fetch``.

        Returns
        -------
        str
            The counts, then each failure with its reason, in French.
        """
        lines = [
            f"Récupérés : {len(self.fetched)} ; déjà là : {len(self.present)} ; "
            f"sans données LiDAR (hors couverture) : {len(self.empty)} ; "
            f"en échec : {len(self.failed)}."
        ]
        lines += [f"  échec {name} : {reason}" for name, reason in self.failed]
        return "\n".join(lines)


class _Retry(Exception):
    """A transient failure: try again (after ``wait`` seconds if given)."""

    def __init__(self, reason: str, wait: float | None = None) -> None:
        super().__init__(reason)
        self.wait = wait


def tiles_for(area, ring: int = 1) -> list[tuple[int, int]]:
    """The LiDAR tiles an area needs: those touching it, and a ring around them (the halo).

    Parameters
    ----------
    area
        A shapely geometry [Lambert-93 m].
    ring
        Tiles added on every side [tiles] (1: the 1 km halo shading the edges).

    Returns
    -------
    list of Key
        ``(x_km, y_km)`` keys, sorted.
    """
    from shapely import prepared

    prep = prepared.prep(area)
    touching = [k for k in tiles_touching(area.bounds) if prep.intersects(tile_box(k))]
    grown = {
        (kx + dx, ky + dy)
        for kx, ky in touching
        for dx in range(-ring, ring + 1)
        for dy in range(-ring, ring + 1)
    }
    return sorted(grown)


def wms_params(key: tuple[int, int], kind: str) -> dict[str, str]:
    """The Géoplateforme WMS-R GetMap parameters of one height tile, as in IGN's own links.

    Parameters
    ----------
    key
        The tile ``(x_km, y_km)`` [km].
    kind
        ``"MNS"`` or ``"MNT"``.

    Returns
    -------
    dict
        Query parameters: the tile's exact bounds on IGN's grid [Lambert-93 m], 2 000 × 2 000
        px, GeoTIFF, and IGN's file name.
    """
    left, bottom, right, top = tile_bounds(key)
    return {
        "SERVICE": "WMS",
        "VERSION": "1.3.0",
        "EXCEPTIONS": "text/xml",
        "REQUEST": "GetMap",
        "LAYERS": LAYERS[kind],
        "FORMAT": "image/geotiff",
        "STYLES": "",
        "CRS": "EPSG:2154",
        "BBOX": f"{left:.2f},{bottom:.2f},{right:.2f},{top:.2f}",
        "WIDTH": "2000",
        "HEIGHT": "2000",
        "FILENAME": lidar_file_name(key, kind),
    }


def _looks_like_error(head: bytes) -> str | None:
    """An XML exception or an HTML page where data was expected (servers answer 200)."""
    text = head[:400].lstrip().lower()
    if b"serviceexception" in text or b"exceptionreport" in text:
        return "exception WMS/WFS renvoyée avec le statut 200"
    if text.startswith((b"<!doctype html", b"<html")) or b"<html" in text[:200]:
        return "page HTML renvoyée à la place des données"
    if text.startswith(b"<?xml"):
        return "document XML renvoyé à la place des données"
    return None


class Fetcher:
    """Downloads with retries, validation and atomic renames; one HTTP session per thread."""

    def __init__(self, services: Services, sleep: Callable[[float], None] = time.sleep) -> None:
        self.services = services
        self.sleep = sleep
        self._local = threading.local()

    def _session(self):
        import requests

        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers["User-Agent"] = self.services.user_agent
            session.max_redirects = 5
            self._local.session = session
        return session

    def download(
        self,
        url: str,
        params: dict | None,
        target: Path,
        validate: Callable[[Path], None],
        max_bytes: int = MAX_BYTES["json"],
    ) -> None:
        """Download into a file: written aside, validated, renamed; retried when transient.

        Parameters
        ----------
        url
            The service's address.
        params
            Query parameters, or ``None``.
        target
            The file; it appears whole and validated, or not at all.
        validate
            Raises on a body that is not what was asked (an XML exception or an HTML page
            served with status 200, a truncated GeoTIFF…).
        max_bytes
            The largest the body may be (:data:`MAX_BYTES`): a bigger one is cut and the file
            fails; it also sets the file's overall deadline (``Services.deadline_s``).

        Returns
        -------
        None

        Raises
        ------
        FetchError
            Still failing after ``services.retries`` attempts (exponential back-off), or a
            permanent error (4xx, a redirect away from the web or in a loop, a body larger
            than ``max_bytes``), in French, with the real reason.
        """
        import requests
        import urllib3.exceptions as u3

        tmp = target.with_name(f".{target.name}.part")
        last = "?"
        for attempt in range(self.services.retries + 1):
            try:
                self._get_to(url, params, tmp, max_bytes)
                validate(tmp)
                os.replace(tmp, target)
                return
            except _Retry as err:
                last, wait = str(err), err.wait
            except (requests.ConnectionError, requests.Timeout, u3.ReadTimeoutError) as err:
                last, wait = f"connexion coupée ou trop lente ({type(err).__name__})", None
            except (requests.exceptions.ChunkedEncodingError, u3.ProtocolError):
                last, wait = "réponse coupée en cours de route", None
            except (u3.DecodeError, requests.exceptions.ContentDecodingError):
                last, wait = "réponse compressée illisible (gzip abîmé)", None
            except requests.TooManyRedirects as err:
                raise FetchError("redirections en boucle : adresse du service à vérifier") from err
            except (requests.exceptions.InvalidSchema, requests.exceptions.InvalidURL) as err:
                raise FetchError(
                    f"le service renvoie vers une adresse qui n'est pas web ({str(err)[:80]})"
                ) from err
            except requests.RequestException as err:  # never read as a disk error
                raise FetchError(f"requête impossible ({type(err).__name__})") from err
            finally:
                tmp.unlink(missing_ok=True)
            if attempt < self.services.retries:
                backoff = min(60.0, self.services.backoff * 2**attempt)
                self.sleep(max(wait or 0.0, backoff))
        raise FetchError(last)

    def _get_to(self, url: str, params: dict | None, tmp: Path, max_bytes: int) -> None:
        """One request into ``tmp``, within the file's deadline and size (see :meth:`download`)."""
        deadline = time.monotonic() + self.services.deadline_s(max_bytes)
        response = self._session().get(
            url, params=params, stream=True, timeout=self.services.timeout
        )
        with response:
            if response.status_code == 429:
                raise _Retry("trop de requêtes (429)", _retry_after(response))
            if response.status_code >= 500:
                raise _Retry(f"erreur du service ({response.status_code})")
            if response.status_code != 200:
                raise FetchError(f"refusé par le service ({response.status_code})")
            encoded = bool(response.headers.get("Content-Encoding"))
            expected = response.headers.get("Content-Length")
            if expected is not None and not encoded and int(expected) > max_bytes:
                raise FetchError(_too_big(max_bytes))
            size = _copy_body(response.raw, tmp, max_bytes, deadline)
            if expected is not None and not encoded and size != int(expected):
                raise _Retry(f"réponse tronquée ({size} octets sur {expected})")
        with open(tmp, "rb") as fh:
            problem = _looks_like_error(fh.read(400))
        if problem:
            raise _Retry(problem)

    def get_json(self, url: str, params: dict) -> Any:
        """A JSON answer, retried like a download.

        Parameters
        ----------
        url
            The service's address.
        params
            Query parameters.

        Returns
        -------
        object
            The parsed JSON.

        Raises
        ------
        FetchError
            As :meth:`download`.
        """
        out: dict[str, Any] = {}

        def parse(path: Path) -> None:
            try:
                out["value"] = json.loads(path.read_bytes())
            except ValueError as err:
                raise _Retry("réponse JSON illisible") from err

        import tempfile

        with tempfile.TemporaryDirectory(prefix="atlas-fetch-") as holder:
            self.download(url, params, Path(holder) / "page.json", parse)
        return out["value"]


def _too_big(max_bytes: int) -> str:
    return f"réponse plus grosse que prévu (au plus {max_bytes / 1e6:.0f} Mo) : arrêtée"


def _copy_body(raw, tmp: Path, max_bytes: int, deadline: float) -> int:
    """Write a response body (decoded) to ``tmp`` as it arrives; its size [bytes].

    Each read returns what has arrived (``read1``), so a body trickling a byte at a time
    still meets the deadline check; a body past ``max_bytes`` is cut and refused.
    """
    size = 0
    with open(tmp, "wb") as fh:
        while True:
            chunk = raw.read1(1 << 16, decode_content=True)
            if not chunk:
                return size
            size += len(chunk)
            if size > max_bytes:
                raise FetchError(_too_big(max_bytes))
            fh.write(chunk)
            if time.monotonic() > deadline:
                raise _Retry(f"réponse trop lente ({size / 1e3:.0f} ko reçus dans le délai)")


def _retry_after(response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return min(300.0, max(0.0, float(value)))
    except ValueError:
        return None


class _Empty(Exception):
    """The service answered a valid tile holding no height at all (not yet covered)."""


def _tile_validator(key: tuple[int, int]):
    def validate(path: Path) -> None:
        import rasterio
        from rasterio.errors import RasterioError

        problem = check_tile(path, key, read_data=False)
        if problem:
            raise _Retry(problem.split(" : ", 1)[-1])
        try:
            with rasterio.open(path) as src:
                data = src.read(1, masked=True)
        except RasterioError as err:
            raise _Retry("GeoTIFF illisible") from err
        from layers.solar.inputs import valid_heights

        filled = data.filled(np.nan).astype("float32")
        if not valid_heights(filled, None).any():
            raise _Empty()

    return validate


@dataclass
class _Journal:
    """``fetch.json``: rewritten atomically after every file (a kill loses nothing done)."""

    path: Path
    data: dict = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def open(cls, path: Path, services: Services) -> _Journal:
        data: dict[str, Any] = {}
        if path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except ValueError:
                data = {}
        data.setdefault("fichiers", {})
        data.setdefault("vides", [])
        data["services"] = {k: getattr(services, k) for k in ("wms", "wfs", "ban", "pvgis")}
        return cls(path, data)

    def record(self, name: str, url: str, path: Path) -> None:
        entry = {
            "source": url,
            "octets": path.stat().st_size,
            "sha256": sha256_file(path),
            "recupere_le": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        with self.lock:
            self.data["fichiers"][name] = entry
            self._save()

    def empty(self, name: str) -> None:
        with self.lock:
            if name not in self.data["vides"]:
                self.data["vides"].append(name)
            self._save()

    def _save(self) -> None:
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        tmp.write_text(json.dumps(self.data, indent=1, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, self.path)


def fetch(
    area,
    centroid_lonlat: tuple[float, float],
    departements: list[str],
    out: Path,
    services: Services,
    what: tuple[str, ...] = WHAT,
    workers: int = 4,
    dry_run: bool = False,
    bdtopo_file: Path | None = None,
    progress: bool = True,
    sleep: Callable[[float], None] = time.sleep,
) -> FetchReport:
    """Fetch every input of ``solar build`` for an area into a folder.

    LiDAR HD height tiles (Géoplateforme WMS-R), BD TOPO buildings (WFS, paged, or clipped
    from a file), BAN addresses of the departments, a PVGIS TMY. Resumable: a journal
    records each file with its checksum; files already there are checked, not fetched
    again; every file is written under a temporary name, then renamed.

    Parameters
    ----------
    area
        A shapely geometry [Lambert-93 m].
    centroid_lonlat
        The area's centre [deg] (PVGIS's point).
    departements
        INSEE department codes of the BAN files (``["62"]``).
    out
        The folder: ``lidar/``, ``batiment.gpkg``, ``adresses-XX.csv``, ``climat/``.
    services
        The services' addresses, time-outs and retries.
    what
        A subset of ``("lidar", "batiments", "adresses", "climat")``.
    workers
        Requests at once (1–16).
    dry_run
        Plan only: count the files and their size, fetch nothing.
    bdtopo_file
        A BD TOPO ``batiment`` layer on disk, clipped instead of the WFS.
    progress
        Show tqdm bars.
    sleep
        Waits between retries (injected by tests) [s].

    Returns
    -------
    FetchReport
        Files fetched, already present, empty (no LiDAR there yet) and failed, with sizes
        [MB].

    Raises
    ------
    SolarError
        Bad arguments (unknown ``what``, workers out of range), in French.
    """
    from tqdm import tqdm

    unknown = set(what) - set(WHAT)
    if unknown:
        raise SolarError(f"--what : inconnu(s) {', '.join(sorted(unknown))} ({', '.join(WHAT)}).")
    if not 1 <= workers <= 16:
        raise SolarError("--workers : entre 1 et 16 requêtes simultanées.")
    out = Path(out)
    keys = tiles_for(area)
    report = FetchReport()
    lidar = out / "lidar"
    jobs: list[tuple[str, Callable[[], None]]] = []
    journal = _Journal.open(out / "fetch.json", services) if not dry_run else None
    fetcher = Fetcher(services, sleep=sleep)
    if "lidar" in what:
        for key in keys:
            for kind in ("MNS", "MNT"):
                name = lidar_file_name(key, kind)
                report.planned.append(name)
                target = lidar / name
                if target.is_file() and check_tile(target, key, read_data=False) is None:
                    report.present.append(name)
                    continue
                if journal is not None and name in journal.data["vides"]:
                    report.empty.append(name)
                    continue
                report.download_mb += TILE_MB
                jobs.append((name, _tile_job(fetcher, services, key, kind, target, journal)))
    if "batiments" in what:
        target = out / "batiment.gpkg"
        report.planned.append(target.name)
        if target.is_file():
            report.present.append(target.name)
        else:
            km2 = len(keys)
            report.download_mb += BUILDINGS_MB_PER_KM2 * km2 * 3  # GeoJSON is ~3× the GPKG
            jobs.append(
                (
                    target.name,
                    lambda: _buildings_job(
                        fetcher, services, area, keys, out, bdtopo_file, journal
                    ),
                )
            )
    if "adresses" in what:
        for dep in departements:
            target = out / f"adresses-{dep}.csv.gz"
            report.planned.append(target.name)
            if target.is_file():
                report.present.append(target.name)
                continue
            report.download_mb += BAN_MB
            jobs.append((target.name, _ban_job(fetcher, services, dep, target, journal)))
    if "climat" in what:
        lon, lat = centroid_lonlat
        target = out / "climat" / f"pvgis-tmy_{lat:.3f}_{lon:.3f}.json"
        report.planned.append(f"climat/{target.name}")
        if target.is_file():
            report.present.append(f"climat/{target.name}")
        else:
            report.download_mb += 2.0
            jobs.append(
                (f"climat/{target.name}", _pvgis_job(fetcher, services, lat, lon, target, journal))
            )
    report.disk_mb = report.download_mb + TILE_MB * len(report.present)
    if dry_run:
        return report
    lidar.mkdir(parents=True, exist_ok=True)
    with (
        ThreadPoolExecutor(workers) as pool,
        tqdm(total=len(jobs), desc="Téléchargements", unit="fichier", disable=not progress) as bar,
    ):
        futures = {pool.submit(job): name for name, job in jobs}
        for future in as_completed(futures):
            name = futures[future]
            try:
                future.result()
            except _Empty:
                report.empty.append(name)
            except FetchError as err:
                report.failed.append((name, str(err)))
            except SolarError as err:
                report.failed.append((name, str(err)))
            else:
                report.fetched.append(name)
            bar.update(1)
    return report


def _tile_job(fetcher, services, key, kind, target, journal):
    def job() -> None:
        params = wms_params(key, kind)
        try:
            fetcher.download(services.wms, params, target, _tile_validator(key), MAX_BYTES["tile"])
        except _Empty:
            journal.empty(target.name)
            raise
        journal.record(target.name, _url(services.wms, params), target)

    return job


def _url(base: str, params: dict) -> str:
    from urllib.parse import urlencode

    return f"{base}?{urlencode(params)}"


def wfs_params(bbox: tuple[float, float, float, float], start: int, count: int) -> dict:
    """The WFS 2.0.0 GetFeature parameters of one page of BD TOPO buildings.

    Parameters
    ----------
    bbox
        ``(left, bottom, right, top)`` [Lambert-93 m].
    start
        Index of the page's first building.
    count
        Buildings per page.

    Returns
    -------
    dict
        Query parameters (``BDTOPO_V3:batiment``, GeoJSON, EPSG:2154).
    """
    return {
        "SERVICE": "WFS",
        "VERSION": "2.0.0",
        "REQUEST": "GetFeature",
        "TYPENAMES": "BDTOPO_V3:batiment",
        "OUTPUTFORMAT": "application/json",
        "SRSNAME": "EPSG:2154",
        "BBOX": "{:.2f},{:.2f},{:.2f},{:.2f},EPSG:2154".format(*bbox),
        "COUNT": str(count),
        "STARTINDEX": str(start),
    }


def _buildings_job(fetcher, services, area, keys, out, bdtopo_file, journal):
    """BD TOPO buildings of the tiles: from the WFS (paged), or clipped from a file."""
    import geopandas as gpd
    import pyogrio

    target = out / "batiment.gpkg"
    if bdtopo_file is not None:
        from shapely.geometry import box

        x0 = min(tile_bounds(k)[0] for k in keys)
        y0 = min(tile_bounds(k)[1] for k in keys)
        x1 = max(tile_bounds(k)[2] for k in keys)
        y1 = max(tile_bounds(k)[3] for k in keys)
        frame = pyogrio.read_dataframe(bdtopo_file, bbox=(x0, y0, x1, y1))
        frame = frame[frame.intersects(box(x0, y0, x1, y1))]
        source = f"fichier {Path(bdtopo_file).name}"
    else:
        cache = out / ".bdtopo"
        cache.mkdir(parents=True, exist_ok=True)
        parts = []
        for key in keys:
            part = cache / f"{key[0]:04d}_{key[1]:04d}.json"
            if not part.is_file():
                features = _wfs_box(fetcher, services, tile_bounds(key))
                tmp = part.with_name(f".{part.name}.tmp")
                tmp.write_text(json.dumps(features), encoding="utf-8")
                os.replace(tmp, part)
            parts.extend(json.loads(part.read_text(encoding="utf-8")))
        if not parts:
            raise FetchError("aucun bâtiment renvoyé par le WFS pour cette zone")
        frame = gpd.GeoDataFrame.from_features(parts, crs=2154)
        source = services.wfs + " (BDTOPO_V3:batiment)"
    if "cleabs" in frame.columns:
        frame = frame.drop_duplicates("cleabs")  # a building across two boxes comes twice
    tmp = out / ".batiment-en-cours.gpkg"
    tmp.unlink(missing_ok=True)
    pyogrio.write_dataframe(
        frame, tmp, layer="batiment", driver="GPKG", layer_metadata={"SOURCE": source}
    )
    os.replace(tmp, target)
    journal.record(target.name, source, target)


def _wfs_box(fetcher, services, bbox) -> list[dict]:
    """Every feature in one box, page after page until ``numberMatched`` is reached."""
    features: list[dict] = []
    start = 0
    while True:
        page = fetcher.get_json(services.wfs, wfs_params(bbox, start, WFS_PAGE))
        if not isinstance(page, dict) or "features" not in page:
            raise FetchError("réponse WFS sans « features »")
        got = page["features"]
        features.extend(got)
        matched = page.get("numberMatched")
        start += len(got)
        if not got or (isinstance(matched, int) and start >= matched):
            return features
        if not isinstance(matched, int) and len(got) < WFS_PAGE:
            return features


def _ban_job(fetcher, services, dep, target, journal):
    def validate(path: Path) -> None:
        import zlib

        try:  # the whole archive: a truncated one fails only at its end
            with gzip.open(path, "rt", encoding="utf-8") as fh:
                header = fh.readline()
                while fh.read(1 << 22):
                    pass
        except (OSError, EOFError, UnicodeDecodeError, zlib.error) as err:
            raise _Retry("fichier BAN compressé illisible ou tronqué") from err
        if not {"numero", "nom_voie", "lon", "lat"} <= set(header.strip().split(";")):
            raise _Retry("en-tête BAN attendu (numero;…;lon;lat)")

    def job() -> None:
        url = f"{services.ban.rstrip('/')}/adresses-{dep}.csv.gz"
        fetcher.download(url, None, target, validate, MAX_BYTES["ban"])
        journal.record(target.name, url, target)

    return job


def _pvgis_job(fetcher, services, lat, lon, target, journal):
    def validate(path: Path) -> None:
        from layers.solar.sky import WeatherError, read_weather

        ready = path.with_name(path.name.removesuffix(".part") + ".json")
        os.replace(path, ready)
        try:
            read_weather(ready)
        except WeatherError as err:
            raise _Retry(f"TMY PVGIS illisible ({err})") from err
        finally:
            os.replace(ready, path)

    def job() -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        params = {"lat": f"{lat:.4f}", "lon": f"{lon:.4f}", "outputformat": "json"}
        url = f"{services.pvgis.rstrip('/')}/tmy"
        fetcher.download(url, params, target, validate)
        journal.record(f"climat/{target.name}", _url(url, params), target)

    return job


def default_weather(folder: Path) -> Path | None:
    """The PVGIS TMY a fetch left beside a LiDAR folder.

    Parameters
    ----------
    folder
        The LiDAR folder (``…/lidar``).

    Returns
    -------
    Path or None
        ``../climat/pvgis-tmy_*.json``, the first by name, or ``None``.
    """
    found = sorted((Path(folder).parent / "climat").glob("pvgis-tmy_*.json"))
    return found[0] if found else None
