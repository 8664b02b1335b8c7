"""The cadastre of a whole territory from IGN LiDAR HD tiles and BD TOPO buildings.

``pma-atlas solar build --lidar DIR --buildings FILE --weather FILE --out STORE``

- **Tiles as IGN publishes them** (``LHD_FXX_XXXX_YYYY_MNS_…``, 1 km, 0.5 m): each is
  computed from a window grown by a halo (the reach of shadows + a margin for buildings
  across its edge) read from its neighbours. Lines of the horizon sweep follow one global
  grid, so a tile gives what a one-piece run of the mosaic gives. A missing neighbour
  means no shade from there; the manifest records it.
- **Buildings** (BD TOPO ``batiment``: MultiPolygon Z, sometimes invalid) belong to the tile
  holding their centroid; their statistics use the grown window, so a building across a
  tile corner is counted once, whole.
- **Resumable and incremental**: a tile's outputs are written then renamed, and the
  manifest (rewritten atomically after each tile) records the checksums of everything the
  tile depends on (its MNS and MNT, its neighbours' MNS, its buildings, the parameters and
  the weather). A rerun skips the tiles whose record still matches and recomputes the
  others — killed half-way or given new tiles alike. ``dry_run`` only lists them.

The store: ``irradiation/<tile>.tif`` (COG with overviews), ``irradiation.vrt`` (the whole
territory for QGIS), ``toits/<tile>.parquet`` per tile, ``toits.gpkg`` (all roofs, R-tree),
``manifest.json``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numba
import numpy as np
import pandas as pd
import pyogrio
import pyogrio.errors
import rasterio
from affine import Affine
from pyproj import CRS
from rasterio.windows import from_bounds
from shapely import force_2d
from tqdm import tqdm

from layers.solar.errors import SolarError
from layers.solar.grid import (
    CELL,
    GRID_LEFT,
    GRID_TOP,
    TILE_PX,
    Key,
    keys_of,
    parse_lidar_file_name,
    tile_box,
    tile_of,
    tile_origin,
)
from layers.solar.inputs import (
    InputError,
    check_addresses,
    check_buildings,
    check_tiles,
    sha256_file,
    valid_heights,
)
from layers.solar.irradiation import irradiation_sweep, warm_up
from layers.solar.pipeline import SkyParams, dask_client, finished
from layers.solar.raster import Raster, write_cog
from layers.solar.rules import RoofRules
from layers.solar.sky import cached_sky_tables
from layers.solar.store import ADDRESS_TO_ROOF_M, CLASSES, StoreLayout, key_of, tile_name

# IGN ships MNT tiles as …_MNT_O_… and …_MNT_A_… (both seen in the wild)
FORMAT = 2  # 2: roofs mostly without LiDAR data are « sans données »
BLOCK = 2  # tiles per side computed in one window (2 × 2)
FINISH_VERSION = 2  # what _finish writes (2: + irradiation-apercu.tif); a change redoes it
BAN_FIELDS = ["numero", "rep", "nom_voie", "code_postal", "code_insee", "nom_commune", "lon", "lat"]


@dataclass(frozen=True)
class BuildParams(SkyParams):
    """Parameters of a territory build (defaults are the CLI's)."""

    margin: float = 60.0  # [m] buildings may reach this far across their tile's edge
    # the ground's irradiation too (a complete map, ~1.3–2 × slower); by default only the
    # roofs get horizons and sums — every pixel still casts shade, the roofs' figures are
    # the same to the bit (tested) — and tiles without a building are not computed
    ground: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        if not (math.isfinite(self.margin) and 0 <= self.margin <= 1000):
            raise SolarError("La marge des bâtiments doit être comprise entre 0 et 1 000 m.")


@dataclass
class BuildReport:
    """What a build did (or, on a dry run, would do).

    Tiles are named as in the store (``0684_7042``).
    """

    to_compute: list[str] = field(default_factory=list)  # computed (dry run: to compute)
    up_to_date: int = 0  # tiles of this run whose inputs had not changed: not recomputed
    kept: list[str] = field(default_factory=list)  # tiles outside this run, kept as they were
    addresses: str = ""  # what the address file gave (kept, refused lines); "" without one
    startup_s: float = 0.0  # loading the kernels, once per process [s]
    assembly_s: float = 0.0  # assembling the store's tables [s]
    assembled: bool = False  # the store's tables were rebuilt (False: nothing had changed)


def scan_lidar(folder: Path) -> dict[Key, dict[str, Path]]:
    """The MNS/MNT tiles of a folder, by the names IGN gives them.

    Parameters
    ----------
    folder
        A folder of LiDAR HD height tiles (other files are ignored).

    Returns
    -------
    dict
        ``{(x_km, y_km): {"MNS": path, "MNT": path}}`` (``"MNT"`` may be missing).
    """
    found: dict[Key, dict[str, Path]] = {}
    for path in sorted(Path(folder).glob("*.tif")):
        parsed = parse_lidar_file_name(path.name)
        if parsed:
            found.setdefault(parsed[0], {})[parsed[1]] = path
    return {k: v for k, v in found.items() if "MNS" in v}


def _mosaic(
    tiles: dict[Key, dict[str, Path]], kind: str, left: float, top: float, width: int, height: int
) -> tuple[np.ndarray, list[Key]]:
    """Heights of a window read from every tile it touches, and the tiles missing.

    The window starts at (left, top) and is width × height px; NaN where no tile or no data.
    """
    out = np.full((height, width), np.nan, dtype="float32")
    right, bottom = left + width * CELL, top - height * CELL
    missing = []
    x0, y0 = tile_of(left + CELL, top - CELL)
    x1, y1 = tile_of(right - CELL, bottom + CELL)
    for x_km in range(x0, x1 + 1):
        for y_km in range(y1, y0 + 1):
            path = tiles.get((x_km, y_km), {}).get(kind)
            if path is None:
                missing.append((x_km, y_km))
                continue
            with rasterio.open(path) as src:
                t_left, t_bottom, t_right, t_top = src.bounds
                i_left, i_right = max(left, t_left), min(right, t_right)
                i_bottom, i_top = max(bottom, t_bottom), min(top, t_top)
                if i_left >= i_right or i_bottom >= i_top:
                    continue
                win = from_bounds(i_left, i_bottom, i_right, i_top, src.transform).round_offsets()
                win = win.round_lengths()
                data = src.read(1, window=win, masked=True).astype("float32").filled(np.nan)
                data[~valid_heights(data, None)] = np.nan  # IGN's -99999, declared or not
                r0 = int(round((top - i_top) / CELL))
                c0 = int(round((i_left - left) / CELL))
                out[r0 : r0 + data.shape[0], c0 : c0 + data.shape[1]] = data
    return out, missing


def read_buildings(path: Path, log=None) -> gpd.GeoDataFrame:
    """Read BD TOPO buildings: Lambert-93, 2-D, repaired; refused in French when unusable.

    Parameters
    ----------
    path
        A GeoPackage with a layer ``batiment`` (lower-case columns), or IGN's shapefile
        ``BATIMENT.shp`` (upper-case v3 columns, ``ID`` is the cleabs); any CRS.
    log
        Called with a French line when the layer is reprojected; ``None``: silent.

    Returns
    -------
    geopandas.GeoDataFrame
        Polygons in EPSG:2154 with ``cleabs`` and the layer's other columns (lower-case).

    Raises
    ------
    InputError
        Unreadable or empty file, no ``batiment`` layer, and everything
        :func:`inputs.check_buildings` refuses.
    """
    name = Path(path).name
    options: dict[str, Any] = {}
    if Path(path).suffix.lower() == ".shp" and not Path(path).with_suffix(".cpg").is_file():
        # BD TOPO's DBF is UTF-8; without its .cpg GDAL would read it as Latin-1 (« IndiffÃ© »)
        options["encoding"] = "UTF-8"
    try:
        frame = pyogrio.read_dataframe(
            path, layer="batiment" if _has_layer(path) else None, **options
        )
    except Exception as err:
        if options:  # not UTF-8 after all: GDAL's default
            try:
                frame = pyogrio.read_dataframe(path)
            except Exception as again:
                raise InputError(f"Bâtiments illisibles ({name}) : fichier corrompu.") from again
        else:
            raise InputError(f"Bâtiments illisibles ({name}) : fichier corrompu ou vide.") from err
    if "cleabs" not in frame.columns and "ID" in frame.columns:  # IGN's shapefile schema
        frame = frame.rename(columns={"ID": "cleabs"})
    frame = frame.rename(columns={c: c.lower() for c in frame.columns if c != "geometry"})
    if "cleabs" not in frame.columns:
        raise InputError(
            f"Bâtiments sans champ « cleabs » ni « ID » ({name}) : couche BD TOPO batiment "
            "attendue."
        )
    check_buildings(frame, name)
    if frame.crs.to_epsg() != 2154 and log is not None:
        log(f"Bâtiments en {frame.crs.to_string()[:40]} : reprojetés en Lambert-93.")
    frame = frame.to_crs(2154)
    frame["geometry"] = force_2d(frame.geometry.to_numpy())
    bad = ~frame.geometry.is_valid
    if bad.any():
        frame.loc[bad, "geometry"] = frame.geometry[bad].make_valid()
    return frame[~frame.geometry.is_empty].reset_index(drop=True)


def _has_layer(path: Path) -> bool:
    try:
        return "batiment" in pyogrio.list_layers(path)[:, 0]
    except Exception:
        return False


def _atomic_json(path: Path, data: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def tile_inputs(
    key: Key,
    tiles: dict[Key, dict[str, Path]],
    buildings: gpd.GeoDataFrame,
    params: BuildParams,
    weather_sha: str,
    shas: dict[Path, str],
    rules: RoofRules | None = None,
) -> dict:
    """Everything a tile's outputs depend on, as checksums: the manifest's record.

    A tile is recomputed when its record changes. The record is persisted in
    ``manifest.json`` (French keys: ``mns``, ``mnt``, ``voisins``, ``batiments``,
    ``parametres``, ``meteo``, ``regles_toits``, ``format``).

    Parameters
    ----------
    key
        The tile ``(x_km, y_km)`` [km].
    tiles
        Every LiDAR tile of the folder (:func:`scan_lidar`): the neighbours within the
        shadows' reach are part of the record.
    buildings
        The tile's own buildings.
    params
        The build's parameters.
    weather_sha
        The weather file's checksum.
    shas
        The LiDAR files' checksums known so far, completed here.
    rules
        The roof figures' rules (thresholds, panel power, performance ratio): a change there
        recomputes the roofs; nothing else of the app's assumptions does.

    Returns
    -------
    dict
        The record.
    """

    def sha(p: Path) -> str:
        if p not in shas:
            shas[p] = sha256_file(p)
        return shas[p]

    reach_km = math.ceil((params.max_distance + params.margin) / 1000)
    neighbours = {}
    for dx in range(-reach_km, reach_km + 1):
        for dy in range(-reach_km, reach_km + 1):
            if (dx, dy) == (0, 0):
                continue
            other = tiles.get((key[0] + dx, key[1] + dy))
            neighbours[f"{key[0] + dx}_{key[1] + dy}"] = sha(other["MNS"]) if other else None
    own = tiles[key]
    mine = buildings
    return {
        "mns": sha(own["MNS"]),
        "mnt": sha(own["MNT"]) if "MNT" in own else None,
        "voisins": neighbours,
        "batiments": hashlib.sha256(  # geometry and every attribute (carried into the store)
            mine.drop(columns=[mine.geometry.name, "_tile"], errors="ignore")
            .to_csv(index=False)
            .encode()
            + b"".join(mine.geometry.to_wkb())
        ).hexdigest(),
        "parametres": asdict(params),
        "meteo": weather_sha,
        "regles_toits": rules.digest() if rules is not None else None,
        "format": FORMAT,
    }


def build(
    lidar_dir: Path,
    buildings_path: Path,
    weather_path: Path,
    out: Path,
    params: BuildParams,
    rules: RoofRules,
    dry_run: bool = False,
    progress: bool = True,
    communes: gpd.GeoDataFrame | None = None,
    area=None,
    addresses: Path | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    log=None,
    wait: bool = False,
    cache_dir: Path | None = None,
) -> BuildReport:
    """Compute (or update) a cadastre store from LiDAR HD tiles, BD TOPO buildings and weather.

    Every input is checked before anything is written (:mod:`layers.solar.inputs`): a
    wrong tile, building layer or address file leaves the store byte for byte as it was.
    A run adds to the store and updates it; it never removes tiles computed before. One
    build at a time writes a store (a lock file; a second one is refused, or waits).
    Only this process writes the manifest, tile by tile as they finish, so a kill at any
    moment still resumes.

    Parameters
    ----------
    lidar_dir
        IGN's MNS (and MNT) tiles, named as IGN names them.
    buildings_path
        BD TOPO buildings (:func:`read_buildings`).
    weather_path
        A year of hourly weather: EPW or PVGIS TMY.
    out
        The store's folder (created if needed).
    params
        Sky, sectors, shadows' reach, building margin, roofs only or the ground too.
    rules
        The roof rules (``RoofRules``).
    dry_run
        Say what would be computed; write nothing.
    progress
        Show a tqdm bar.
    communes
        ``insee``, ``nom``, ``epci_code`` and polygons: each roof gets its commune and EPCI,
        the store its per-commune totals.
    area
        A Lambert-93 geometry: only the tiles touching it are computed (every tile still
        lends its halo).
    addresses
        A BAN ``adresses-XX.csv``: the store gets an address layer, each address tied to
        the building under it or within ``ADDRESS_TO_ROOF_M`` [m].
    workers
        Blocks computed at once in local processes (each with ``cores / workers`` numba
        threads).
    scheduler
        A dask.distributed scheduler (``tcp://host:8786``) whose workers see ``lidar_dir``
        and ``out`` at the same paths (shared disk).
    log
        Called with French lines (reprojection…); ``None``: silent.
    wait
        Wait for another build's lock instead of refusing.
    cache_dir
        Keeps the sky tables of a weather file between builds (``sky.cached_sky_tables``).

    Returns
    -------
    BuildReport
        Tiles computed (or to compute), up to date, kept; timings [s].

    Raises
    ------
    InputError
        An input refused (nothing written).
    SolarError
        Another build holds the store, or writing failed (disk full…): the tiles finished are
        recorded, the rest of the store is as it was.
    """
    tiles = scan_lidar(lidar_dir)
    if not tiles:
        raise InputError(f"Aucune dalle LiDAR HD (LHD_FXX_…_MNS_…tif) dans {lidar_dir}.")
    ban_rows = None
    report = BuildReport()
    if addresses is not None:  # read once; a bad file is refused before any work
        from layers.solar.ban import read_ban

        ban_rows, kept = check_addresses(read_ban(addresses, BAN_FIELDS), Path(addresses).name)
        report.addresses = str(kept)
    out = Path(out)
    buildings = read_buildings(buildings_path, log=log)
    cent = buildings.geometry.representative_point()
    buildings["_tile"] = keys_of(cent.x, cent.y)
    if not buildings["_tile"].isin(set(tiles)).any():
        x0, y0, x1, y1 = buildings.total_bounds
        raise InputError(
            f"Aucun bâtiment de {Path(buildings_path).name} ne tombe sur les dalles LiDAR "
            f"(bâtiments entre ({x0:.0f}, {y0:.0f}) et ({x1:.0f}, {y1:.0f}) en Lambert-93) : "
            "mauvaise zone, ou système de coordonnées déclaré faux ?"
        )
    weather_sha = sha256_file(weather_path)
    wanted = sorted(tiles)
    if area is not None:
        wanted = [k for k in wanted if tile_box(k).intersects(area)]
        if not wanted:
            raise InputError("Aucune dalle LiDAR ne touche la zone demandée (--area).")
    check_tiles(tiles, set())  # every header, cheap: a wrong tile is refused before any work
    with _store_lock(out, dry_run, wait):
        return _build_locked(
            tiles, wanted, buildings, weather_path, weather_sha, out, params, rules, dry_run,
            progress, communes, addresses, ban_rows, workers, scheduler, report, cache_dir,
        )  # fmt: skip


def _build_locked(
    tiles, wanted, buildings, weather_path, weather_sha, out, params, rules, dry_run, progress,
    communes, addresses, ban_rows, workers, scheduler, report, cache_dir=None,
) -> BuildReport:  # fmt: skip
    """The build once its inputs are checked and the store is locked (see :func:`build`)."""
    layout = StoreLayout(out)
    manifest_path = layout.manifest
    manifest: dict[str, Any] = {"format": FORMAT, "tuiles": {}}
    if manifest_path.is_file():
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except ValueError as err:
            raise SolarError(
                f"Manifeste du magasin illisible ({manifest_path}) : rien n'a été modifié."
            ) from err
        if not isinstance(manifest, dict) or not isinstance(manifest.get("tuiles"), dict):
            raise SolarError(
                f"Manifeste du magasin mal formé ({manifest_path}) : rien n'a été modifié."
            )
    shas = _known_checksums(manifest)
    by_tile = dict(iter(buildings.groupby("_tile", sort=False)))  # one pass, not one per tile
    none = buildings.iloc[:0]
    records = {
        k: tile_inputs(k, tiles, by_tile.get(k, none), params, weather_sha, shas, rules)
        for k in wanted
    }
    manifest["empreintes"] = _checksum_cache(shas)
    name = {k: tile_name(k) for k in wanted}
    todo = [
        k
        for k in wanted
        if manifest["tuiles"].get(name[k], {}).get("entrees") != records[k]
        or not layout.roofs_part(name[k]).is_file()
    ]
    # a partial run (--area, a folder with only new tiles) adds to the store: the tiles
    # computed before stay, with their records (no command removes tiles: a store with
    # fewer tiles is built anew in another folder)
    kept = sorted(
        n
        for n in manifest["tuiles"]
        if n not in set(name.values()) and layout.roofs_part(n).is_file()
    )
    report.to_compute = [name[k] for k in todo]
    report.up_to_date = len(wanted) - len(todo)
    report.kept = kept
    if dry_run:
        return report
    # the data of every tile that will be read (the blocks' tiles and their halos)
    reach = math.ceil((params.max_distance + params.margin) / 1000) + BLOCK
    read = {
        t for k in todo for t in tiles if abs(t[0] - k[0]) <= reach and abs(t[1] - k[1]) <= reach
    }
    check_tiles({k: v for k, v in tiles.items() if k in read}, read)
    out.mkdir(parents=True, exist_ok=True)
    layout.cog_dir.mkdir(exist_ok=True)
    layout.roofs_dir.mkdir(exist_ok=True)
    try:
        return _compute_and_assemble(
            tiles, by_tile, weather_path, out, params, rules, progress, communes, addresses,
            ban_rows, workers, scheduler, report, manifest, manifest_path, records, name,
            todo, kept, cache_dir,
        )  # fmt: skip
    except WRITE_ERRORS as err:
        raise SolarError(
            f"Écriture impossible dans le magasin {out.name} ({type(err).__name__} : "
            f"{str(err).splitlines()[0][:120] if str(err) else 'sans détail'}). Disque plein, "
            "quota ou droits ? Les dalles déjà finies sont enregistrées, le reste du magasin "
            "est tel qu'avant ; relancez une fois la place libérée."
        ) from err


def _known_checksums(manifest: dict) -> dict[Path, str]:
    """The LiDAR checksums of the last build whose file is unchanged (same size and mtime).

    Hashing every tile of a territory (2 × 1 124 files of ~10 MB for the PMA) is the
    largest fixed cost of a small rebuild; a file rewritten gets a new mtime and is hashed
    again (as ``make`` and ``rsync`` decide, a file changed in place with its size and its
    mtime restored would not be seen).
    """
    known = {}
    for path, entry in (manifest.get("empreintes") or {}).items():
        try:
            size, mtime, digest = entry
            stat = Path(path).stat()
        except (OSError, TypeError, ValueError):
            continue
        if stat.st_size == size and stat.st_mtime_ns == mtime:
            known[Path(path)] = digest
    return known


def _checksum_cache(shas: dict[Path, str]) -> dict[str, list]:
    out = {}
    for path, digest in shas.items():
        stat = path.stat()
        out[str(path)] = [stat.st_size, stat.st_mtime_ns, digest]
    return out


def _compute_and_assemble(
    tiles, by_tile, weather_path, out, params, rules, progress, communes, addresses, ban_rows,
    workers, scheduler, report, manifest, manifest_path, records, name, todo, kept, cache_dir=None,
) -> BuildReport:  # fmt: skip
    """Compute the tiles to do, record each as it finishes, then assemble the store.

    ``by_tile``: the buildings grouped by tile (never empty: the build refuses a layer
    without a building on its tiles).
    """
    tables, weather = cached_sky_tables(
        weather_path, params.model, params.n_sectors, params.albedo, cache_dir
    )
    none = next(iter(by_tile.values())).iloc[:0]
    blocks: dict[Key, list[Key]] = {}
    for key in todo:  # 2 × 2 tiles share one window: its halo is read and swept once
        blocks.setdefault((key[0] // BLOCK, key[1] // BLOCK), []).append(key)
    jobs = [
        (
            keys,
            tiles,
            pd.concat([by_tile[k] for k in keys if k in by_tile] or [none]),
            tables,
            params,
            rules,
            out,
            [name[k] for k in keys],
        )
        for keys in blocks.values()
    ]
    bar = tqdm(total=len(todo), desc="Dalles", unit="dalle", disable=not progress)
    startup = 0.0
    for done, seconds, who, peak, warm in _run_blocks(jobs, workers, scheduler):
        startup += warm
        for key, missing, no_building in done:
            manifest["tuiles"][name[key]] = {
                "entrees": records[key],
                "sans_batiment": no_building,
                "voisins_absents": [f"{x}_{y}" for x, y in missing],
                "duree_s": round(seconds / len(done), 2),
                "bloc": [name[k] for k, _, _ in done],
                "calcule_par": who,
                "rss_mo": round(peak),
                "climat": weather.get("name"),
            }
        _atomic_json(manifest_path, manifest)
        bar.update(len(done))
    bar.close()
    report.startup_s = round(startup, 2)  # loading the kernels, once per process
    stored = sorted(set(name.values()) | set(kept))
    for gone in set(manifest["tuiles"]) - set(stored):  # records without their tables
        manifest["tuiles"].pop(gone)
    finish = _finish_signature(manifest, communes, addresses)
    report.assembled = bool(
        todo or manifest.get("finition") != finish or not StoreLayout(out).gpkg.is_file()
    )
    if not report.assembled:  # nothing changed: the store stays as it is, untouched
        return report
    # a store already complete stays readable while its tables are rebuilt (each written
    # under a temporary name, then renamed); a new store is complete only after this
    t0 = time.perf_counter()
    synthetic = _finish(out, stored, communes, ban_rows)
    report.assembly_s = round(time.perf_counter() - t0, 2)
    # what the tiles' own times leave out
    manifest["dernier_calcul"] = {
        "demarrage_s": report.startup_s,
        "assemblage_s": report.assembly_s,
    }
    manifest["finition"] = finish
    manifest["climat"] = weather
    manifest["parametres"] = asdict(params)
    manifest["synthetique"] = synthetic
    manifest["termine"] = True
    _atomic_json(manifest_path, manifest)
    return report


def _write_errors() -> tuple[type[BaseException], ...]:
    """What a full disk, a quota or a file size limit raises through GDAL and the OS."""
    from rasterio._err import CPLE_BaseError

    return (OSError, CPLE_BaseError, pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError)


WRITE_ERRORS = _write_errors()


@contextmanager
def _store_lock(out: Path, dry_run: bool, wait: bool = False):
    """Hold the store's lock for the whole build (not for a dry run, which writes nothing).

    A second build into the same store is refused at once, with who holds it (``wait``:
    it waits for the first to finish, then finds the store up to date — the demo store
    prepared by several app processes at once). The lock is an ``flock`` on
    ``out/.verrou-build``: released by the system if the process dies.
    """
    if dry_run:
        yield
        return
    import fcntl
    import socket

    out.mkdir(parents=True, exist_ok=True)
    handle = open(StoreLayout(out).lock, "a+", encoding="utf-8")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as err:
            handle.seek(0)
            who = handle.read().strip() or "un autre processus"
            raise SolarError(
                f"Un autre calcul écrit déjà dans ce magasin ({who}) : rien n'a été fait. "
                "Attendez qu'il se termine, puis relancez (les dalles à jour ne sont pas "
                "refaites)."
            ) from err
        handle.seek(0)
        handle.truncate()
        handle.write(
            f"{socket.gethostname()}:{os.getpid()} depuis {time.strftime('%d/%m/%Y %H:%M')}"
        )
        handle.flush()
        yield
    finally:
        handle.close()


_WARM: dict[str, float] = {}  # per process: the kernels' loading time, once


def _block_task(
    threads: int, *job
) -> tuple[list[tuple[Key, list[Key], bool]], float, str, float, float]:
    """One block of tiles in a worker process.

    Returns ([(key, missing neighbours, without building?)…], seconds, ``host:pid``, the
    process's peak RSS [MB], seconds this process spent loading its kernels before its
    first block (0 afterwards): a tile's time is its own, the start-up is counted apart).
    """
    import resource
    import socket

    if threads:
        numba.set_num_threads(min(threads, numba.get_num_threads()))
    startup = 0.0
    if "s" not in _WARM:
        startup = _WARM["s"] = warm_up(job[3])
    t0 = time.perf_counter()
    done = _compute_block(*job)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return done, seconds, f"{socket.gethostname()}:{os.getpid()}", peak, startup


def _run_blocks(jobs: list, workers: int, scheduler: str | None):
    """Yield what :func:`_block_task` returns, per block, as blocks finish.

    In this process (``workers`` = 1), in a local process pool, or on dask.distributed.
    """
    if not jobs:
        return
    if scheduler is None and workers <= 1:
        for job in jobs:
            yield _block_task(0, *job)
        return
    if scheduler is not None:
        with dask_client(scheduler) as client:
            tables = client.scatter(jobs[0][3], broadcast=True)  # the sky tables, sent once
            yield from finished(client, _block_task, [(1, *j[:3], tables, *j[4:]) for j in jobs])
        return
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures import as_completed as done
    from multiprocessing import get_context

    threads = max(1, (os.cpu_count() or 1) // workers)
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        pending = [pool.submit(_block_task, threads, *job) for job in jobs]
        for future in done(pending):
            yield future.result()


def _finish_signature(
    manifest: dict, communes: gpd.GeoDataFrame | None, addresses: Path | None
) -> str:
    """What the assembled tables depend on besides the tiles (records, communes, addresses).

    Equal signatures mean the store's tables are already up to date.
    """
    digest = hashlib.sha256(json.dumps(manifest["tuiles"], sort_keys=True).encode())
    digest.update(f"assemblage {FINISH_VERSION}".encode())
    if communes is not None:
        digest.update(communes[["insee", "nom", "epci_code"]].to_csv().encode())
        digest.update(b"".join(communes.geometry.to_wkb()))
    if addresses is not None:
        digest.update(sha256_file(addresses).encode())
    return digest.hexdigest()


def _compute_block(
    keys: list[Key],
    tiles: dict[Key, dict[str, Path]],
    buildings: gpd.GeoDataFrame,
    tables,
    params: BuildParams,
    rules: RoofRules,
    out: Path,
    names: list[str],
) -> list[tuple[Key, list[Key], bool]]:
    """Compute tiles of one 2 × 2 block in one window; write each tile's COG and roofs.

    The window is the block's bounding box grown by the margin and the halo: the halo is
    read and swept once for up to four tiles (a lone tile's window is 2.3 × its pixels, a
    full block's 1.6 ×). Only the wanted tiles (and the margin around them, for buildings
    across their edges) get irradiation; every pixel of the window casts shade. Lines
    follow the global grid, so the figures do not depend on how tiles are grouped. By
    default only the roofs (pixels a footprint touches, grown by one) get horizons and sums;
    a block without any building is not read nor swept (``params.ground`` computes all).
    Returns ``(key, missing neighbours within reach, without building?)`` per tile.
    """
    from layers.solar.roofs import roof_statistics

    margin = int(math.ceil(params.margin / CELL))
    halo = int(math.ceil(params.max_distance / CELL)) + 2
    kx0, kx1 = min(k[0] for k in keys), max(k[0] for k in keys)
    ky0, ky1 = min(k[1] for k in keys), max(k[1] for k in keys)
    left0, top0 = tile_origin((kx0, ky1))
    width, height = (kx1 - kx0 + 1) * TILE_PX, (ky1 - ky0 + 1) * TILE_PX
    grow = margin + halo
    left, top = left0 - grow * CELL, top0 + grow * CELL
    crs = CRS.from_epsg(2154)
    reach_km = math.ceil((params.max_distance + params.margin) / 1000)
    ext_transform = Affine(CELL, 0, left + halo * CELL, 0, -CELL, top - halo * CELL)
    ext_shape = (height + 2 * margin, width + 2 * margin)
    offsets = {k: ((ky1 - k[1]) * TILE_PX, (k[0] - kx0) * TILE_PX) for k in keys}  # in the block
    if not params.ground and buildings.empty:
        # no building: nothing to compute (fields, water, woods); the tile is recorded as
        # such and its raster is empty, so the coverage stays honest
        return _empty_block(keys, tiles, names, out, crs, reach_km)
    dsm, missing = _mosaic(tiles, "MNS", left, top, width + 2 * grow, height + 2 * grow)
    dtm, _ = _mosaic(tiles, "MNT", left, top, width + 2 * grow, height + 2 * grow)
    origin = (int(round((GRID_TOP - top) / CELL)), int(round((left - GRID_LEFT) / CELL)))
    ext = (halo, halo + ext_shape[0], halo, halo + ext_shape[1])
    wanted = np.zeros(ext_shape, dtype=bool)
    for r, c in offsets.values():  # the wanted tiles, each with its margin
        wanted[r : r + TILE_PX + 2 * margin, c : c + TILE_PX + 2 * margin] = True
    if not params.ground:
        wanted &= roof_mask(buildings, ext_transform, ext_shape)
    result = irradiation_sweep(
        dsm,
        CELL,
        tables,
        params.n_sectors,
        params.max_distance,
        core=ext,
        origin=origin,
        where=wanted,
    )
    irr = result.irradiation
    height_above = (dsm - dtm)[ext[0] : ext[1], ext[2] : ext[3]]
    done = []
    for key, name in zip(keys, names, strict=True):
        r, c = offsets[key]
        core = irr[margin + r : margin + r + TILE_PX, margin + c : margin + c + TILE_PX]
        _write_tile_cog(out, name, key, core, crs)
        mine = buildings[buildings["_tile"] == key].drop(columns="_tile")
        stats = roof_statistics(
            mine.set_crs(crs, allow_override=True),
            Raster(irr, ext_transform, crs),
            result.surface_tilt,
            result.surface_azimuth,
            rules,
            height_above,
        )
        _write_roofs(out, name, stats)
        near = [
            m for m in missing if abs(m[0] - key[0]) <= reach_km and abs(m[1] - key[1]) <= reach_km
        ]
        done.append((key, near, mine.empty))
    return done


def roof_mask(buildings: gpd.GeoDataFrame, transform: Affine, shape: tuple[int, int]) -> np.ndarray:
    """The pixels of a window that roof statistics can read.

    Parameters
    ----------
    buildings
        Footprints in the window's CRS.
    transform
        The window's affine transform.
    shape
        ``(rows, cols)`` [px].

    Returns
    -------
    numpy.ndarray
        Booleans: pixels touched by a footprint, grown by one pixel — a superset of the
        pixels any roof statistic reads (centres inside a footprint), so the roofs' figures
        are those of a full computation.
    """
    from rasterio.features import rasterize
    from scipy import ndimage

    if buildings.empty:
        return np.zeros(shape, dtype=bool)
    touched = rasterize(
        ((g, 1) for g in buildings.geometry if g is not None and not g.is_empty),
        out_shape=shape,
        transform=transform,
        fill=0,
        all_touched=True,
        dtype="uint8",
    ).astype(bool)
    return ndimage.binary_dilation(touched, structure=np.ones((3, 3), dtype=bool))


def _write_tile_cog(out: Path, name: str, key: Key, data: np.ndarray, crs) -> None:
    left_k, top_k = tile_origin(key)
    write_cog(
        StoreLayout(out).cog(name),
        Raster(data, Affine(CELL, 0, left_k, 0, -CELL, top_k), crs),
        {"units": "kWh/m2/an", "producer": "Atlas PMA (layers.solar.build)"},
        "irradiation annuelle [kWh/m2/an]",
    )


def _write_roofs(out: Path, name: str, stats: gpd.GeoDataFrame) -> None:
    stats["dalle"] = name
    final = StoreLayout(out).roofs_part(name)
    tmp = final.with_name(f".{final.name}.tmp")
    stats.to_parquet(tmp)
    os.replace(tmp, final)


def _empty_block(keys, tiles, names, out, crs, reach_km) -> list:
    """The outputs of tiles without a building: an empty raster, no roof."""
    empty = np.full((TILE_PX, TILE_PX), np.nan, dtype="float32")
    done = []
    for key, name in zip(keys, names, strict=True):
        _write_tile_cog(out, name, key, empty, crs)
        _write_roofs(out, name, gpd.GeoDataFrame({"cleabs": []}, geometry=[], crs=crs))
        near = [
            (key[0] + dx, key[1] + dy)
            for dx in range(-reach_km, reach_km + 1)
            for dy in range(-reach_km, reach_km + 1)
            if (dx, dy) != (0, 0) and (key[0] + dx, key[1] + dy) not in tiles
        ]
        done.append((key, near, True))
    return done


def _finish(
    out: Path,
    names: list[str],
    communes: gpd.GeoDataFrame | None = None,
    ban_rows: pd.DataFrame | None = None,
) -> bool:
    """All roofs in one GeoPackage (R-tree), addresses, per-commune totals, coverage, a VRT.

    Written under a temporary name and renamed: the app never sees a half-written table.
    ``ban_rows`` is the BAN file as :func:`layers.solar.ban.read_ban` read it. Returns
    whether the roofs are fictional (their BD TOPO ``qualite`` field says « synthétique »).
    """
    layout = StoreLayout(out)
    parts = [gpd.read_parquet(layout.roofs_part(n)) for n in names]
    roofs = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=parts[0].crs)
    if communes is not None:
        where = gpd.GeoDataFrame(geometry=roofs.geometry.representative_point(), crs=roofs.crs)
        joined = gpd.sjoin(
            where,
            communes[["insee", "nom", "epci_code", "geometry"]].to_crs(roofs.crs),
            how="left",
            predicate="within",
        )
        joined = joined[~joined.index.duplicated()]
        roofs["insee"] = joined["insee"].to_numpy()
        roofs["commune"] = joined["nom"].to_numpy()
        roofs["epci"] = joined["epci_code"].to_numpy()
    ban = _tie_addresses(ban_rows, roofs) if ban_rows is not None else None
    if ban is not None and communes is not None:  # the département file: keep the PMA's
        ban = ban[ban["code_insee"].isin(set(communes["insee"]))]
    if ban is not None:
        first = ban.dropna(subset=["cleabs"]).drop_duplicates("cleabs").set_index("cleabs")
        roofs["adresse"] = roofs["cleabs"].map(first["label"])
    tmp = layout.gpkg_in_progress
    tmp.unlink(missing_ok=True)
    pyogrio.write_dataframe(roofs, tmp, layer="toits", driver="GPKG", spatial_index=True)
    _index_column(tmp, "toits", "cleabs")
    if ban is not None:
        pyogrio.write_dataframe(ban, tmp, layer="adresses", driver="GPKG", spatial_index=True)
    if "insee" in roofs.columns:
        classes = pd.get_dummies(roofs["classe"]).reindex(columns=list(CLASSES), fill_value=0)
        classes.columns = list(CLASSES.values())
        roofs = roofs.join(classes.astype(int))
        totals = (
            roofs.groupby(["insee", "commune", "epci"], dropna=False)
            .agg(
                toits=("cleabs", "size"),
                surface_utile_m2=("surface_utile_m2", "sum"),
                kwc_bas=("kwc_bas", "sum"),
                kwc_central=("kwc_central", "sum"),
                kwc_haut=("kwc_haut", "sum"),
                kwh_an_bas=("kwh_an_bas", "sum"),
                kwh_an_central=("kwh_an_central", "sum"),
                kwh_an_haut=("kwh_an_haut", "sum"),
                **{c: (c, "sum") for c in CLASSES.values()},
            )
            .reset_index()
        )
        pyogrio.write_dataframe(totals, tmp, layer="communes", driver="GPKG")
    from shapely import union_all

    pyogrio.write_dataframe(
        gpd.GeoDataFrame(
            {"dalles": [len(names)], "noms": [" ".join(names)]},
            geometry=[union_all([tile_box(key_of(n)) for n in names])],
            crs=2154,
        ),
        tmp,
        layer="couverture",
        driver="GPKG",
    )
    os.replace(tmp, layout.gpkg)
    _write_vrt(layout, names)
    _write_overview(out, names)
    quality = roofs["qualite"] if "qualite" in roofs.columns else pd.Series([], dtype=str)
    return bool(len(quality) and str(quality.iloc[0]).startswith("synthétique"))


def _index_column(gpkg: Path, layer: str, column: str) -> None:
    """An SQLite index on a column (the app fetches a roof by ``cleabs``)."""
    import sqlite3

    with sqlite3.connect(gpkg) as db:
        db.execute(f'CREATE INDEX IF NOT EXISTS "{layer}_{column}" ON "{layer}" ("{column}")')


def _tie_addresses(frame: pd.DataFrame, roofs: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """BAN addresses with the ``cleabs`` of the building each one is on (or ≤ 15 m away)."""
    from layers.solar.ban import fold

    lon = pd.to_numeric(frame["lon"], errors="coerce")
    lat = pd.to_numeric(frame["lat"], errors="coerce")
    frame = frame[lon.notna() & lat.notna()]
    label = frame["label"]
    points = gpd.GeoSeries.from_xy(lon[frame.index], lat[frame.index], crs=4326).to_crs(roofs.crs)
    ban = gpd.GeoDataFrame(
        {
            "label": label.to_numpy(),
            "recherche": label.map(fold).to_numpy(),
            "code_insee": frame["code_insee"].to_numpy(),
            "synthetique": frame.get("source_position", pd.Series("", index=frame.index))
            .str.contains("synthétique")
            .map({True: "oui", False: "non"})
            .to_numpy(),
        },
        geometry=points.to_numpy(),
        crs=roofs.crs,
    )
    coverage = roofs.total_bounds
    near = gpd.sjoin_nearest(
        ban.cx[coverage[0] - 50 : coverage[2] + 50, coverage[1] - 50 : coverage[3] + 50],
        roofs[["cleabs", "geometry"]],
        how="left",
        max_distance=ADDRESS_TO_ROOF_M,
    )
    near = near[~near.index.duplicated()]
    ban["cleabs"] = near["cleabs"].reindex(ban.index)
    return ban


OVERVIEW_CELL = 4.0  # [m] the whole territory in one COG, for maps at low zoom


def _write_overview(out: Path, names: list[str]) -> None:
    """``irradiation-apercu.tif``: the whole territory at 4 m (a COG with its own overviews).

    A map tile at zoom ≤ 14 covers 1.5 km or more: drawn from the tiles' COGs it would open
    up to a dozen files; from this one file it reads a few kB. Each tile contributes its
    own overview level (mean of 8 × 8 pixels), read and written one tile at a time.
    """
    from rasterio.enums import Resampling

    from layers.solar.raster import create_tiled_gtiff, to_cog

    keys = [key_of(n) for n in names]
    step = int(round(OVERVIEW_CELL / CELL))
    size = TILE_PX // step
    x0, y1 = min(k[0] for k in keys), max(k[1] for k in keys)
    width = (max(k[0] for k in keys) - x0 + 1) * size
    height = (y1 - min(k[1] for k in keys) + 1) * size
    left, top = tile_origin((x0, y1))
    tmp = out / ".irradiation-apercu.tif.tmp"
    transform = Affine(OVERVIEW_CELL, 0, left, 0, -OVERVIEW_CELL, top)
    crs = CRS.from_epsg(2154)
    create_tiled_gtiff(tmp, height, width, transform, crs, "irradiation annuelle [kWh/m2/an]")
    with rasterio.open(tmp, "r+") as dst:
        for key, name in zip(keys, names, strict=True):
            with rasterio.open(StoreLayout(out).cog(name)) as src:
                data = src.read(1, out_shape=(size, size), resampling=Resampling.average)
            row, col = (y1 - key[1]) * size, (key[0] - x0) * size
            dst.write(data, 1, window=rasterio.windows.Window(col, row, size, size))
    final = out / ".irradiation-apercu.cog.tmp"
    to_cog(tmp, final, {"units": "kWh/m2/an", "producer": "Atlas PMA (layers.solar.build)"})
    tmp.unlink()
    os.replace(final, StoreLayout(out).overview)


def _write_vrt(layout: StoreLayout, names: list[str]) -> None:
    """``irradiation.vrt``: every tile's COG placed on one grid (QGIS opens the territory)."""
    path = layout.vrt
    keys = [key_of(n) for n in names]
    x0, y1 = min(k[0] for k in keys), max(k[1] for k in keys)
    left, top = tile_origin((x0, y1))
    width = (max(k[0] for k in keys) - x0 + 1) * TILE_PX
    height = (y1 - min(k[1] for k in keys) + 1) * TILE_PX
    sources = "".join(
        f"""
    <ComplexSource>
      <SourceFilename relativeToVRT="1">{layout.cog(name).relative_to(layout.root)}</SourceFilename>
      <SourceBand>1</SourceBand>
      <SrcRect xOff="0" yOff="0" xSize="{TILE_PX}" ySize="{TILE_PX}"/>
      <DstRect xOff="{(k[0] - x0) * TILE_PX}" yOff="{(y1 - k[1]) * TILE_PX}" xSize="{TILE_PX}" ySize="{TILE_PX}"/>
      <NODATA>nan</NODATA>
    </ComplexSource>"""  # noqa: E501
        for name, k in zip(names, keys, strict=True)
    )
    wkt = CRS.from_epsg(2154).to_wkt()
    text = f"""<VRTDataset rasterXSize="{width}" rasterYSize="{height}">
  <SRS>{wkt}</SRS>
  <GeoTransform>{left}, {CELL}, 0, {top}, 0, {-CELL}</GeoTransform>
  <VRTRasterBand dataType="Float32" band="1">
    <NoDataValue>nan</NoDataValue>
    <Description>irradiation annuelle [kWh/m2/an]</Description>{sources}
  </VRTRasterBand>
</VRTDataset>
"""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
