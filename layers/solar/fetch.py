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

Requests run ``workers`` at a time through :mod:`layers.solar.fetch_http` (retries,
deadlines, size caps); a file is renamed into place only once complete **and valid**: a
tile on its exact grid whose heights pass ``build``'s own rules
(:func:`layers.solar.inputs.height_problem`), a whole BAN archive, a readable TMY, the
buildings of verified WFS answers (:mod:`layers.solar.fetch_buildings`).

What a rerun does: it asks nothing for the files it has, and it knows them by the journal
(size and modification time, the SHA-256 when those changed: a damaged file is fetched
again); a file not in the journal (put there by hand) is checked as ``build`` would. An
empty answer is never final: a tile that came without heights, a WFS box that came
empty or unverified are asked again. One fetch writes into a folder at a time (a lock,
``DIR/.verrou-fetch``).
"""

from __future__ import annotations

import gzip
import json
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from layers.solar.errors import SolarError
from layers.solar.fetch_buildings import POLYGONS, area_buildings
from layers.solar.fetch_http import MAX_BYTES, TILE_MB, Fetcher, FetchError, Retry, Services
from layers.solar.grid import Key, lidar_file_name, tile_bounds, tile_box, tiles_touching
from layers.solar.inputs import NO_HEIGHT, check_tile, height_problem, sha256_file
from layers.solar.locks import hold
from layers.solar.machine import usable_cores

LAYERS = {
    "MNS": "IGNF_LIDAR-HD_MNS_ELEVATION.ELEVATIONGRIDCOVERAGE.LAMB93",
    "MNT": "IGNF_LIDAR-HD_MNT_ELEVATION.ELEVATIONGRIDCOVERAGE.LAMB93",
}
WHAT = ("lidar", "batiments", "adresses", "climat")
BUILDINGS_MB_PER_KM2 = 0.6  # the BD TOPO batiment layer of a built-up km² (GeoPackage) [MB]
BAN_MB = 60.0  # adresses-62.csv.gz
LOCK = ".verrou-fetch"


@dataclass
class FetchReport:
    """What a fetch did: files fetched, already there, damaged, empty, failed."""

    fetched: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    damaged: list[str] = field(default_factory=list)  # on disk but not as fetched: asked again
    empty: list[str] = field(default_factory=list)  # answered without heights: asked again
    failed: list[tuple[str, str]] = field(default_factory=list)
    planned: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    workers: int = 0
    download_mb: float = 0.0
    disk_mb: float = 0.0

    def summary(self) -> str:
        """The closing lines of ``pma-atlas solar fetch``.

        Returns
        -------
        str
            The counts, then each failure with its reason, each empty answer and each note,
            in French.
        """
        lines = [
            f"Récupérés : {len(self.fetched)} ; déjà là : {len(self.present)} ; abîmés sur le "
            f"disque (récupérés à nouveau) : {len(self.damaged)} ; réponses sans hauteur : "
            f"{len(self.empty)} ; en échec : {len(self.failed)} "
            f"({self.workers} requête(s) simultanée(s))."
        ]
        lines += [f"  échec {name} : {reason}" for name, reason in self.failed]
        lines += [
            f"  vide {name} : le service n'a renvoyé aucune hauteur (hors couverture LiDAR HD "
            "ou panne) ; redemandée au prochain lancement"
            for name in self.empty
        ]
        lines += [f"  {note}" for note in self.notes]
        if self.failed or self.empty:
            lines.append(
                "Relancez la même commande : seuls les fichiers manquants seront demandés."
            )
        return "\n".join(lines)


@dataclass(frozen=True)
class FetchRequest:
    """What to fetch, and where.

    Attributes
    ----------
    area
        A shapely geometry [Lambert-93 m].
    centroid_lonlat
        The area's centre [deg] (PVGIS's point).
    departements
        INSEE department codes of the BAN files (``["62"]``).
    out
        The folder: ``lidar/``, ``batiment.gpkg``, ``adresses-XX.csv.gz``, ``climat/``.
    what
        A subset of ``("lidar", "batiments", "adresses", "climat")``.
    bdtopo_file
        A BD TOPO ``batiment`` layer on disk, clipped instead of the WFS.
    """

    area: Any
    centroid_lonlat: tuple[float, float]
    departements: list[str]
    out: Path
    what: tuple[str, ...] = WHAT
    bdtopo_file: Path | None = None


@dataclass(frozen=True)
class FetchOptions:
    """How to fetch.

    Attributes
    ----------
    workers
        Requests at once (1–16); by default :func:`default_requests`.
    dry_run
        Plan only: count the files and their size, fetch nothing.
    progress
        Show tqdm bars.
    sleep
        Waits between retries (injected by tests) [s].
    """

    workers: int = field(default_factory=lambda: default_requests())
    dry_run: bool = False
    progress: bool = True
    sleep: Callable[[float], None] = time.sleep


def default_requests(cores: int | None = None) -> int:
    """Requests at once by default: one per core, at least 4, at most 8.

    Each request's own work (checking a tile's heights, a page of buildings) takes a core
    for a moment; past 8 the Géoplateforme throttles (429) more than it serves.

    Parameters
    ----------
    cores
        Cores this process may use (default: its CPU affinity).

    Returns
    -------
    int
    """
    return max(4, min(8, usable_cores() if cores is None else cores))


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


class _Empty(Exception):
    """The service answered a valid tile holding no height at all."""


def _tile_validator(key: Key) -> Callable[[Path], None]:
    """A tile's check: its grid, then its heights by ``build``'s own rules."""

    def validate(path: Path) -> None:
        import rasterio
        from rasterio.errors import RasterioError

        problem = check_tile(path, key, read_data=False)
        if problem:
            raise Retry(problem.split(" : ", 1)[-1])
        try:
            with rasterio.open(path) as src:
                data, nodata = src.read(1), src.nodata
        except (RasterioError, OSError) as err:
            raise Retry("GeoTIFF illisible") from err
        problem = height_problem(data, nodata)
        if problem == NO_HEIGHT:
            raise _Empty()
        if problem:
            raise Retry(f"hauteurs refusées par les règles de solar build : {problem}")

    return validate


@dataclass
class _Journal:
    """``fetch.json``: rewritten atomically after every file (a kill loses nothing done).

    ``fichiers`` maps each file to its source, size, modification time and SHA-256;
    ``vides`` lists the tiles last answered without heights (asked again by every run).
    """

    path: Path
    data: dict = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def open(cls, path: Path, services: Services) -> _Journal:
        """The journal of a folder (empty if missing or unreadable)."""
        data: dict[str, Any] = {}
        if path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except ValueError:
                data = {}
        if not isinstance(data, dict):
            data = {}
        data.setdefault("fichiers", {})
        data.setdefault("vides", [])
        data["services"] = {k: getattr(services, k) for k in ("wms", "wfs", "ban", "pvgis")}
        return cls(path, data)

    def entry(self, name: str) -> dict | None:
        """What the journal says of a file, or ``None``."""
        entry = self.data["fichiers"].get(name)
        return entry if isinstance(entry, dict) else None

    def intact(self, name: str, path: Path) -> bool | None:
        """Whether a file on disk is the one fetched: ``None`` when the journal does not know it.

        Same size and modification time: intact (as ``build`` trusts its inputs); the size
        differs: damaged; the time changed: its SHA-256 decides.
        """
        entry = self.entry(name)
        if entry is None or "sha256" not in entry:
            return None
        stat = path.stat()
        if stat.st_size != entry.get("octets"):
            return False
        if entry.get("mtime_ns") == stat.st_mtime_ns:
            return True
        if sha256_file(path) != entry["sha256"]:
            return False
        with self.lock:
            entry["mtime_ns"] = stat.st_mtime_ns  # saved with the next record
        return True

    def record(self, name: str, url: str, path: Path, **extra: Any) -> None:
        """A file fetched whole and valid."""
        stat = path.stat()
        entry = {
            "source": url,
            "octets": stat.st_size,
            "mtime_ns": stat.st_mtime_ns,
            "sha256": sha256_file(path),
            "recupere_le": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            **extra,
        }
        with self.lock:
            self.data["fichiers"][name] = entry
            if name in self.data["vides"]:
                self.data["vides"].remove(name)
            self._save()

    def empty(self, name: str) -> None:
        """A tile answered without heights (asked again next run)."""
        with self.lock:
            if name not in self.data["vides"]:
                self.data["vides"].append(name)
            self._save()

    def _save(self) -> None:
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        tmp.write_text(json.dumps(self.data, indent=1, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, self.path)


Job = tuple[str, Callable[[], None]]


@dataclass
class _Plan:
    """The files of a request: what is there (checked), what to ask, and each one's job."""

    request: FetchRequest
    services: Services
    fetcher: Fetcher
    journal: _Journal
    report: FetchReport

    def _needed(self, name: str, path: Path, check: Callable[[Path], bool], mb: float) -> bool:
        """Plan one file: ``False`` when it is there and sound."""
        self.report.planned.append(name)
        if path.is_file():
            intact = self.journal.intact(name, path)
            if intact is None:  # not fetched by us: checked as build will
                intact = check(path)
            if intact:
                self.report.present.append(name)
                return False
            self.report.damaged.append(name)
        self.report.download_mb += mb
        return True

    def lidar(self, keys: list[Key]) -> list[Job]:
        jobs = []
        for key in keys:
            for kind in ("MNS", "MNT"):
                name = lidar_file_name(key, kind)
                target = self.request.out / "lidar" / name
                if self._needed(name, target, _tile_sound(key), TILE_MB):
                    jobs.append((name, self._tile_job(key, kind, target)))
        return jobs

    def _tile_job(self, key: Key, kind: str, target: Path) -> Callable[[], None]:
        def job() -> None:
            params = wms_params(key, kind)
            validate = _tile_validator(key)
            try:
                self.fetcher.download(
                    self.services.wms, params, target, validate, MAX_BYTES["tile"]
                )
            except _Empty:  # asked once more before it is believed for this run
                try:
                    self.fetcher.sleep(self.services.backoff)
                    self.fetcher.download(
                        self.services.wms, params, target, validate, MAX_BYTES["tile"]
                    )
                except _Empty:
                    self.journal.empty(target.name)
                    raise
            self.journal.record(target.name, _url(self.services.wms, params), target)

        return job

    def buildings(self, keys: list[Key]) -> list[Job]:
        target = self.request.out / "batiment.gpkg"
        pending = (self.journal.entry(target.name) or {}).get("carres_a_redemander")
        mb = BUILDINGS_MB_PER_KM2 * len(keys) * 3  # GeoJSON is ~3× the GPKG
        if not self._needed(target.name, target, lambda p: True, mb) and not pending:
            return []
        if pending and target.name in self.report.present:
            self.report.present.remove(target.name)
            self.report.download_mb += mb
        return [(target.name, lambda: self._buildings_job(keys, target))]

    def _buildings_job(self, keys: list[Key], target: Path) -> None:
        import geopandas as gpd
        import pyogrio

        extra: dict[str, Any] = {}
        if self.request.bdtopo_file is not None:
            frame = _clipped(self.request.bdtopo_file, keys)
            source = f"fichier {Path(self.request.bdtopo_file).name}"
        else:
            got = area_buildings(
                self.fetcher, self.services.wfs, keys, self.request.out / ".bdtopo"
            )
            if not got.features:
                raise FetchError("aucun bâtiment renvoyé par le WFS pour cette zone")
            frame = gpd.GeoDataFrame.from_features(got.features, crs=2154)
            source = self.services.wfs + " (BDTOPO_V3:batiment)"
            extra = {"carres_a_redemander": got.unverified, "non_polygones": got.left_out}
            self._note_buildings(got.unverified, got.left_out)
        tmp = self.request.out / ".batiment-en-cours.gpkg"
        tmp.unlink(missing_ok=True)
        pyogrio.write_dataframe(
            frame, tmp, layer="batiment", driver="GPKG", layer_metadata={"SOURCE": source}
        )
        os.replace(tmp, target)
        self.journal.record(target.name, source, target, **extra)

    def _note_buildings(self, unverified: list[str], left_out: int) -> None:
        if unverified:
            shown = ", ".join(unverified[:5]) + (" …" if len(unverified) > 5 else "")
            self.report.notes.append(
                f"batiment.gpkg : {len(unverified)} carré(s) de 1 km dont la réponse du WFS n'a "
                f"pu être vérifiée (vide, ou sans nombre annoncé) : {shown} ; redemandé(s) au "
                "prochain lancement"
            )
        if left_out:
            self.report.notes.append(
                f"batiment.gpkg : {left_out} entité(s) du WFS qui ne sont pas des polygones "
                "(points, lignes) laissée(s) de côté"
            )

    def addresses(self) -> list[Job]:
        jobs = []
        for dep in self.request.departements:
            target = self.request.out / f"adresses-{dep}.csv.gz"
            if self._needed(target.name, target, _ban_sound, BAN_MB):
                jobs.append((target.name, self._ban_job(dep, target)))
        return jobs

    def _ban_job(self, dep: str, target: Path) -> Callable[[], None]:
        def job() -> None:
            url = f"{self.services.ban.rstrip('/')}/adresses-{dep}.csv.gz"
            self.fetcher.download(url, None, target, _check_ban, MAX_BYTES["ban"])
            self.journal.record(target.name, url, target)

        return job

    def climate(self) -> list[Job]:
        lon, lat = self.request.centroid_lonlat
        target = self.request.out / "climat" / f"pvgis-tmy_{lat:.3f}_{lon:.3f}.json"
        name = f"climat/{target.name}"
        if not self._needed(name, target, lambda p: True, 2.0):
            return []

        def job() -> None:
            target.parent.mkdir(parents=True, exist_ok=True)
            params = {"lat": f"{lat:.4f}", "lon": f"{lon:.4f}", "outputformat": "json"}
            url = f"{self.services.pvgis.rstrip('/')}/tmy"
            self.fetcher.download(url, params, target, _check_tmy)
            self.journal.record(name, _url(url, params), target)

        return [(name, job)]


def fetch(
    request: FetchRequest, services: Services, options: FetchOptions = FetchOptions()
) -> FetchReport:
    """Fetch every input of ``solar build`` for an area into a folder.

    LiDAR HD height tiles (Géoplateforme WMS-R), BD TOPO buildings (WFS, paged, or clipped
    from a file), BAN addresses of the departments, a PVGIS TMY. Resumable: a journal
    records each file with its size, time and checksum; files already there are checked,
    not fetched again; every file is written under a temporary name, then renamed. One
    fetch at a time writes into a folder.

    Parameters
    ----------
    request
        The area, its departments, the folder, what to fetch.
    services
        The services' addresses, time-outs and retries.
    options
        Requests at once, dry run, progress bars.

    Returns
    -------
    FetchReport
        Files fetched, present, damaged, empty and failed, with sizes [MB] and notes.

    Raises
    ------
    SolarError
        Bad arguments (unknown ``what``, workers out of range), or another fetch writing
        into the folder; in French.
    """
    unknown = set(request.what) - set(WHAT)
    if unknown:
        raise SolarError(f"--what : inconnu(s) {', '.join(sorted(unknown))} ({', '.join(WHAT)}).")
    if not 1 <= options.workers <= 16:
        raise SolarError("--workers : entre 1 et 16 requêtes simultanées.")
    out = Path(request.out)
    request = replace(request, out=out)
    if options.dry_run:
        return _planned(request, services, options)[0]
    with hold(out / LOCK, _busy):
        report, jobs = _planned(request, services, options)
        (out / "lidar").mkdir(parents=True, exist_ok=True)
        _run(jobs, report, options)
    return report


def _busy(who: str) -> str:
    return (
        f"Un autre téléchargement écrit déjà dans ce dossier ({who}) : rien n'a été fait. "
        "Attendez qu'il se termine, puis relancez (ce qui est là n'est pas redemandé)."
    )


def _planned(
    request: FetchRequest, services: Services, options: FetchOptions
) -> tuple[FetchReport, list[Job]]:
    """The report's plan and the jobs to run."""
    report = FetchReport(workers=options.workers)
    journal = _Journal.open(request.out / "fetch.json", services)
    plan = _Plan(request, services, Fetcher(services, sleep=options.sleep), journal, report)
    keys = tiles_for(request.area)
    jobs: list[Job] = []
    if "lidar" in request.what:
        jobs += plan.lidar(keys)
    if "batiments" in request.what:
        jobs += plan.buildings(keys)
    if "adresses" in request.what:
        jobs += plan.addresses()
    if "climat" in request.what:
        jobs += plan.climate()
    report.disk_mb = report.download_mb + TILE_MB * len(report.present)
    return report, jobs


def _run(jobs: list[Job], report: FetchReport, options: FetchOptions) -> None:
    """Run the jobs ``options.workers`` at a time; each ends in one of the report's lists."""
    from tqdm import tqdm

    with (
        ThreadPoolExecutor(options.workers) as pool,
        tqdm(
            total=len(jobs), desc="Téléchargements", unit="fichier", disable=not options.progress
        ) as bar,
    ):
        futures = {pool.submit(job): name for name, job in jobs}
        for future in as_completed(futures):
            name = futures[future]
            try:
                future.result()
            except _Empty:
                report.empty.append(name)
            except SolarError as err:
                report.failed.append((name, str(err)))
            else:
                report.fetched.append(name)
            bar.update(1)


def _url(base: str, params: dict) -> str:
    from urllib.parse import urlencode

    return f"{base}?{urlencode(params)}"


def _clipped(bdtopo_file: Path, keys: list[Key]):
    """The polygons of a BD TOPO file inside the tiles' extent."""
    import pyogrio
    from shapely.geometry import box

    x0 = min(tile_bounds(k)[0] for k in keys)
    y0 = min(tile_bounds(k)[1] for k in keys)
    x1 = max(tile_bounds(k)[2] for k in keys)
    y1 = max(tile_bounds(k)[3] for k in keys)
    frame = pyogrio.read_dataframe(bdtopo_file, bbox=(x0, y0, x1, y1))
    frame = frame[frame.intersects(box(x0, y0, x1, y1)) & frame.geom_type.isin(POLYGONS)]
    return frame.drop_duplicates("cleabs") if "cleabs" in frame.columns else frame


def _check_ban(path: Path) -> None:
    """The whole archive read (a truncated one fails only at its end), its header checked."""
    import zlib

    try:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            header = fh.readline()
            while fh.read(1 << 22):
                pass
    except (OSError, EOFError, UnicodeDecodeError, zlib.error) as err:
        raise Retry("fichier BAN compressé illisible ou tronqué") from err
    if not {"numero", "nom_voie", "lon", "lat"} <= set(header.strip().split(";")):
        raise Retry("en-tête BAN attendu (numero;…;lon;lat)")


def _tile_sound(key: Key) -> Callable[[Path], bool]:
    def sound(path: Path) -> bool:
        return check_tile(path, key) is None

    return sound


def _ban_sound(path: Path) -> bool:
    try:
        _check_ban(path)
    except Retry:
        return False
    return True


def _check_tmy(path: Path) -> None:
    from layers.solar.sky import WeatherError, read_weather

    ready = path.with_name(path.name.removesuffix(".part") + ".json")
    os.replace(path, ready)
    try:
        read_weather(ready)
    except WeatherError as err:
        raise Retry(f"TMY PVGIS illisible ({err})") from err
    finally:
        os.replace(ready, path)


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


__all__ = [
    "WHAT",
    "default_requests",
    "FetchError",
    "FetchOptions",
    "FetchReport",
    "FetchRequest",
    "Services",
    "default_weather",
    "fetch",
    "tiles_for",
    "wms_params",
]
