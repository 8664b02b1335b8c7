"""The cadastre of a whole territory from IGN LiDAR HD tiles and BD TOPO buildings.

``pma-atlas solar build --lidar DIR --buildings FILE --weather FILE --out STORE``

- **Tiles as IGN publishes them** (``LHD_FXX_XXXX_YYYY_MNS_…``, 1 km, 0.5 m): each is
  computed from a window grown by a halo (the reach of shadows + a margin for buildings
  across its edge) read from its neighbours. Lines of the horizon sweep follow one global
  grid, so a tile gives what a one-piece run of the mosaic gives. A missing neighbour
  means no shade from there; the manifest records it.
- **Buildings** (BD TOPO ``batiment``: MultiPolygon Z, sometimes invalid) belong to the tile
  holding their inner point; their statistics use the grown window, so a building across a
  tile corner is counted once, whole.
- **Resumable and incremental**: a tile's outputs are written then renamed, and the
  manifest (rewritten atomically after each block) records the checksums of everything the
  tile depends on (its MNS and MNT, its neighbours' MNS, its buildings, the parameters, the
  roof rules and the weather). A rerun skips the tiles whose record still matches and
  recomputes the others — killed half-way or given new tiles alike. ``dry_run`` only lists
  them.

The stages, one module each, readable alone: this module checks the inputs and runs the
others (:class:`BuildJob` in, :class:`BuildReport` out); :mod:`~layers.solar.build_plan`
decides which tiles to compute (:class:`~layers.solar.build_plan.BuildState`);
:mod:`~layers.solar.build_blocks` computes 2 × 2-tile blocks (sweep, each tile's COG and
roof statistics through :func:`layers.solar.roofs.roof_statistics`);
:mod:`~layers.solar.build_assemble` writes the store's tables; the manifest is
:class:`layers.solar.store.Manifest`. A new per-tile product (roof faces, panels) is one
more step of :func:`~layers.solar.build_blocks.compute_block`, recorded by the tile's
inputs, assembled by ``build_assemble``.

The store's files are named by :class:`layers.solar.store.StoreLayout` only.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
import pyogrio.errors
from shapely import force_2d
from shapely.geometry.base import BaseGeometry
from tqdm import tqdm

from layers.solar.build_assemble import Context, assemble, signature, unseen_of
from layers.solar.build_blocks import (
    BlockJob,
    BlockResult,
    default_workers,
    mosaic,
    roof_mask,
    run_blocks,
)
from layers.solar.build_faces import FaceStage, TileFaces, faces_todo, run_faces, store_cogs
from layers.solar.build_plan import FORMAT, BuildState, PlanInputs, plan, reach_km, tile_inputs
from layers.solar.errors import SolarError
from layers.solar.grid import Key, keys_of, parse_lidar_file_name, tile_box
from layers.solar.inputs import (
    InputError,
    check_addresses,
    check_buildings,
    check_tiles,
    sha256_file,
)
from layers.solar.locks import hold
from layers.solar.panels import PanelRules
from layers.solar.pipeline import SkyParams
from layers.solar.rules import RoofRules
from layers.solar.sky import cached_sky_tables
from layers.solar.store import (
    MANIFEST_VERSION,
    Manifest,
    StoreLayout,
    TileRecord,
    key_of,
    manifest_climate,
    manifest_parameters,
    tile_name,
)

BLOCK = 2  # tiles per side computed in one window (2 × 2)
BAN_FIELDS = ["numero", "rep", "nom_voie", "code_postal", "code_insee", "nom_commune", "lon", "lat"]
LIDAR = dict[Key, dict[str, Path]]


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
    # tiles of this run kept with the horizon of neighbours absent from its folder
    steady: list[str] = field(default_factory=list)
    addresses: str = ""  # what the address file gave (kept, refused lines); "" without one
    duplicates: int = 0  # building rows present twice (same cleabs, same geometry), once kept
    faces: int = 0  # tiles whose roof faces and modules were made (build_faces)
    unseen: int | None = None  # buildings the LiDAR did not see, store-wide (None: not judged)
    startup_s: float = 0.0  # loading the kernels, once per process [s]
    assembly_s: float = 0.0  # assembling the store's tables [s]
    faces_s: float = 0.0  # the faces stage, wall time [s] (its tiles in ``faces``)
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


def read_buildings(path: Path, log=None, ids_from_geometry: bool = False) -> gpd.GeoDataFrame:
    """Read BD TOPO buildings: Lambert-93, 2-D, repaired; refused in French when unusable.

    Rows present twice (same ``cleabs``, same geometry: what a join or overlapping WFS
    pages leave) are kept once and counted (``frame.attrs["doublons"]``); one ``cleabs``
    carrying different geometries is refused.

    Parameters
    ----------
    path
        A GeoPackage with a layer ``batiment`` (lower-case columns), or IGN's shapefile
        ``BATIMENT.shp`` (upper-case v3 columns, ``ID`` is the cleabs); any CRS.
    log
        Called with a French line when the layer is reprojected or rows were dropped;
        ``None``: silent.
    ids_from_geometry
        Outlines without IGN identifiers (drawn from a point cloud, a commune's own layer)
        get one from their geometry (:func:`geometry_ids`); without it they are refused.

    Returns
    -------
    geopandas.GeoDataFrame
        Polygons in EPSG:2154 with ``cleabs`` and the layer's other columns (lower-case).

    Raises
    ------
    InputError
        Unreadable or empty file, no ``batiment`` layer, no identifiers (without
        ``ids_from_geometry``), and everything :func:`inputs.check_buildings` refuses.
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
    if ids_from_geometry:
        frame["cleabs"] = geometry_ids(frame, frame.get("cleabs"))
    if "cleabs" not in frame.columns:
        raise InputError(
            f"Bâtiments sans champ « cleabs » ni « ID » ({name}) : couche BD TOPO batiment "
            "attendue. Des contours sans identifiant IGN (tirés d'un nuage de points, couche "
            "d'une commune) : relancez avec --ids pour les numéroter d'après leur géométrie."
        )
    frame, twice = _without_exact_duplicates(frame)
    frame.attrs["doublons"] = twice
    if twice and log is not None:
        log(f"Bâtiments : {twice} ligne(s) en double exact (même cleabs, même géométrie) "
            "comptée(s) une fois.")  # fmt: skip
    check_buildings(frame, name)
    if frame.crs.to_epsg() != 2154 and log is not None:
        log(f"Bâtiments en {frame.crs.to_string()[:40]} : reprojetés en Lambert-93.")
    frame = frame.to_crs(2154)
    frame["geometry"] = force_2d(frame.geometry.to_numpy())
    bad = ~frame.geometry.is_valid
    if bad.any():
        frame.loc[bad, "geometry"] = frame.geometry[bad].make_valid()
    out = frame[~frame.geometry.is_empty].reset_index(drop=True)
    out.attrs["doublons"] = twice
    return out


def geometry_ids(frame: gpd.GeoDataFrame, ids: pd.Series | None = None) -> pd.Series:
    """Identifiers for outlines without one, from their geometry: stable between runs.

    Parameters
    ----------
    frame
        The outlines as read.
    ids
        Identifiers already there (kept where present), or ``None``.

    Returns
    -------
    pandas.Series
        ``GEOM`` and 16 hexadecimal digits of the SHA-256 of each outline's normalised
        2-D WKB (the same outline always gets the same identifier); missing where the
        geometry is.
    """
    import hashlib

    import shapely

    geoms = shapely.normalize(force_2d(frame.geometry.to_numpy()))
    made = [
        None
        if g is None or shapely.is_empty(g)
        else "GEOM" + hashlib.sha256(shapely.to_wkb(g, output_dimension=2)).hexdigest()[:16].upper()
        for g in geoms
    ]
    computed = pd.Series(made, index=frame.index, dtype="object")
    if ids is None:
        return computed
    given = ids.astype("object").where(ids.notna() & (ids.astype(str).str.strip() != ""))
    return given.fillna(computed)


def _without_exact_duplicates(frame: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, int]:
    """The rows once each where a ``cleabs`` comes twice with the same geometry."""
    import shapely

    ids = frame["cleabs"]
    if not ids.duplicated().any():
        return frame, 0
    wkb = pd.Series(shapely.to_wkb(frame.geometry.to_numpy()), index=frame.index)
    twice = pd.DataFrame({"c": ids.astype(str), "g": wkb}).duplicated() & ids.notna()
    return frame[~twice.to_numpy()], int(twice.sum())


def _has_layer(path: Path) -> bool:
    try:
        return "batiment" in pyogrio.list_layers(path)[:, 0]
    except Exception:
        return False


@dataclass(frozen=True)
class BuildOptions:
    """How a build runs; none of these changes a figure of the store.

    Attributes
    ----------
    dry_run
        Say what would be computed; write nothing.
    progress
        Show a tqdm bar.
    workers
        Blocks computed at once in local processes (each with ``cores / workers`` numba
        threads); ``None``: what fits (``build_blocks.default_workers``: one per core, ~2.5
        GB each), said through ``log``.
    scheduler
        A dask.distributed scheduler (``tcp://host:8786``) whose workers see the LiDAR
        folder and the store at the same paths (shared disk).
    wait
        Wait for another build's lock instead of refusing.
    cache_dir
        Keeps the sky tables of a weather file between builds (``sky.cached_sky_tables``).
    log
        Called with French lines (reprojection…); ``None``: silent.
    faces
        Run the faces stage (roof faces and modules); ``False`` (``--sans-pans``): the
        irradiation and roof figures only, faster — the faces wait for a later build.
    """

    dry_run: bool = False
    progress: bool = True
    workers: int | None = None
    scheduler: str | None = None
    wait: bool = False
    cache_dir: Path | None = None
    log: Callable[[str], None] | None = None
    faces: bool = True


@dataclass(frozen=True, eq=False)
class BuildJob:
    """What a build is asked to do: its inputs, rules, weather and options.

    Attributes
    ----------
    lidar_dir
        IGN's MNS (and MNT) tiles, named as IGN names them.
    buildings
        BD TOPO buildings (:func:`read_buildings`).
    weather
        A year of hourly weather: EPW or PVGIS TMY.
    out
        The store's folder (created if needed).
    rules
        The roof rules (``RoofRules``).
    panels
        The standard module and how modules are laid (``PanelRules``; the faces stage).
    params
        Sky, sectors, shadows' reach, building margin, roofs only or the ground too.
    communes
        ``insee``, ``nom``, ``epci_code`` and polygons: each roof gets its commune and EPCI,
        the store its per-commune totals.
    area
        A Lambert-93 geometry: only the tiles touching it are computed (every tile still
        lends its halo).
    addresses
        A BAN ``adresses-XX.csv``: the store gets an address layer, each address tied to
        the building under it or within ``ADDRESS_TO_ROOF_M`` [m].
    options
        How it runs (:class:`BuildOptions`).
    ids_from_geometry
        Outlines without IGN identifiers are numbered from their geometry
        (:func:`geometry_ids`, ``--ids``) instead of refused.
    """

    lidar_dir: Path
    buildings: Path
    weather: Path
    out: Path
    rules: RoofRules
    panels: PanelRules = field(default_factory=PanelRules)
    params: BuildParams = field(default_factory=lambda: BuildParams())
    communes: gpd.GeoDataFrame | None = None
    area: BaseGeometry | None = None
    addresses: Path | None = None
    options: BuildOptions = field(default_factory=BuildOptions)
    ids_from_geometry: bool = False


@dataclass(frozen=True, eq=False)
class CheckedInputs:
    """A build's inputs once read and checked (nothing written yet)."""

    lidar: LIDAR
    wanted: list[Key]  # the tiles this run computes or finds up to date
    by_tile: dict[Key, gpd.GeoDataFrame]  # the buildings, grouped by tile
    weather_sha: str
    ban_rows: pd.DataFrame | None


def build(job: BuildJob) -> BuildReport:
    """Compute (or update) a cadastre store from LiDAR HD tiles, BD TOPO buildings and weather.

    Every input is checked before anything is written (:mod:`layers.solar.inputs`): a
    wrong tile, building layer or address file leaves the store byte for byte as it was.
    A run adds to the store and updates it; it never removes tiles computed before. One
    build at a time writes a store (a lock file; a second one is refused, or waits).
    Only this process writes the manifest, tile by tile as they finish, so a kill at any
    moment still resumes. The stages: inputs checked → plan
    (:mod:`~layers.solar.build_plan`) → blocks computed, each tile's irradiation and roof
    statistics written (:mod:`~layers.solar.build_blocks`) → tables assembled
    (:mod:`~layers.solar.build_assemble`) → manifest (:class:`layers.solar.store.Manifest`).

    Parameters
    ----------
    job
        What to build, from what, how (:class:`BuildJob`).

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
    report = BuildReport()
    inputs = check_inputs(job, report)
    with store_lock(Path(job.out), job.options.dry_run, job.options.wait):
        return _build_locked(job, inputs, report)


def check_inputs(job: BuildJob, report: BuildReport) -> CheckedInputs:
    """Read and check every input of a build before anything is written.

    Parameters
    ----------
    job
        The build.
    report
        Gets what the address file gave.

    Returns
    -------
    CheckedInputs

    Raises
    ------
    InputError
        No LiDAR tile, a wrong tile header, buildings off the tiles or unusable, an address
        file refused, an area touching no tile.
    """
    lidar = scan_lidar(job.lidar_dir)
    if not lidar:
        raise InputError(f"Aucune dalle LiDAR HD (LHD_FXX_…_MNS_…tif) dans {job.lidar_dir}.")
    ban_rows = None
    if job.addresses is not None:  # read once; a bad file is refused before any work
        from layers.solar.ban import read_ban

        ban_rows, kept = check_addresses(
            read_ban(job.addresses, BAN_FIELDS), Path(job.addresses).name
        )
        report.addresses = str(kept)
    buildings = read_buildings(job.buildings, job.options.log, job.ids_from_geometry)
    report.duplicates = int(buildings.attrs.get("doublons", 0))
    cent = buildings.geometry.representative_point()
    buildings["_tile"] = keys_of(cent.x, cent.y)
    if not buildings["_tile"].isin(set(lidar)).any():
        x0, y0, x1, y1 = buildings.total_bounds
        raise InputError(
            f"Aucun bâtiment de {Path(job.buildings).name} ne tombe sur les dalles LiDAR "
            f"(bâtiments entre ({x0:.0f}, {y0:.0f}) et ({x1:.0f}, {y1:.0f}) en Lambert-93) : "
            "mauvaise zone, ou système de coordonnées déclaré faux ?"
        )
    weather_sha = sha256_file(job.weather)
    wanted = sorted(lidar)
    if job.area is not None:
        wanted = [k for k in wanted if tile_box(k).intersects(job.area)]
        if not wanted:
            raise InputError("Aucune dalle LiDAR ne touche la zone demandée (--area).")
    check_tiles(lidar, set())  # every header, cheap: a wrong tile is refused before any work
    by_tile = dict(iter(buildings.groupby("_tile", sort=False)))  # one pass, not one per tile
    return CheckedInputs(lidar, wanted, by_tile, weather_sha, ban_rows)


def read_manifest(out: Path) -> Manifest:
    """The store's manifest, or an empty one for a new store.

    Parameters
    ----------
    out
        The store's folder.

    Returns
    -------
    Manifest

    Raises
    ------
    SolarError
        The manifest is unreadable or malformed (nothing is modified).
    """
    path = StoreLayout(Path(out)).manifest
    if not path.is_file():
        return Manifest(format=FORMAT)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise SolarError(
            f"Manifeste du magasin illisible ({path}) : rien n'a été modifié."
        ) from err
    try:
        return Manifest.from_json(data)
    except ValueError as err:
        raise SolarError(
            f"Manifeste du magasin mal formé ({path}) : rien n'a été modifié."
        ) from err


def _build_locked(job: BuildJob, inputs: CheckedInputs, report: BuildReport) -> BuildReport:
    """The build once its inputs are checked and the store is locked (see :func:`build`)."""
    out = Path(job.out)
    layout = StoreLayout(out)
    plan_inputs = PlanInputs(
        inputs.lidar, inputs.wanted, inputs.by_tile, inputs.weather_sha, job.rules
    )
    state = plan(plan_inputs, job.params, read_manifest(out), out)
    report.to_compute = [state.names[k] for k in state.todo]
    report.up_to_date = len(inputs.wanted) - len(state.todo)
    report.kept = state.kept
    report.steady = state.steady
    if job.options.dry_run:
        return report
    # the data of every tile that will be read (the blocks' tiles and their halos)
    reach = reach_km(job.params) + BLOCK
    read = {
        t
        for k in state.todo
        for t in inputs.lidar
        if abs(t[0] - k[0]) <= reach and abs(t[1] - k[1]) <= reach
    }
    check_tiles({k: v for k, v in inputs.lidar.items() if k in read}, read)
    out.mkdir(parents=True, exist_ok=True)
    layout.cog_dir.mkdir(exist_ok=True)
    layout.roofs_dir.mkdir(exist_ok=True)
    try:
        weather = compute_tiles(job, inputs, state, report)
        if job.options.faces:
            compute_faces(job, inputs, state, report)
        pr = job.rules.performance_ratio
        context = Context(
            job.communes, job.addresses, inputs.ban_rows, (pr.low, pr.central, pr.high)
        )
        finish(job, context, state, weather, report)
    except WRITE_ERRORS as err:
        raise SolarError(
            f"Écriture impossible dans le magasin {out.name} ({type(err).__name__} : "
            f"{str(err).splitlines()[0][:120] if str(err) else 'sans détail'}). Disque plein, "
            "quota ou droits ? Les dalles déjà finies sont enregistrées, le reste du magasin "
            "est tel qu'avant ; relancez une fois la place libérée."
        ) from err
    return report


def block_jobs(job: BuildJob, inputs: CheckedInputs, state: BuildState) -> list[BlockJob]:
    """The tiles to compute grouped in 2 × 2 blocks: a block's halo is read and swept once.

    Parameters
    ----------
    job
        The build.
    inputs
        Its checked inputs.
    state
        Its plan.

    Returns
    -------
    list of BlockJob
    """
    none = next(iter(inputs.by_tile.values())).iloc[:0]
    blocks: dict[Key, list[Key]] = {}
    for key in state.todo:
        blocks.setdefault((key[0] // BLOCK, key[1] // BLOCK), []).append(key)
    return [
        BlockJob(
            keys=keys,
            names=[state.names[k] for k in keys],
            lidar=inputs.lidar,
            buildings=pd.concat([inputs.by_tile[k] for k in keys if k in inputs.by_tile] or [none]),
            params=job.params,
            rules=job.rules,
            out=Path(job.out),
        )
        for keys in blocks.values()
    ]


def compute_tiles(
    job: BuildJob, inputs: CheckedInputs, state: BuildState, report: BuildReport
) -> dict[str, Any]:
    """Compute the tiles to do and record each in the manifest as its block finishes.

    Parameters
    ----------
    job
        The build.
    inputs
        Its checked inputs.
    state
        Its plan; its manifest gets each tile's record and is written after each block.
    report
        Gets the kernels' loading time.

    Returns
    -------
    dict
        The weather's description (``Weather.describe()``).
    """
    opts = job.options
    tables, weather = _sky(job)
    path = StoreLayout(Path(job.out)).manifest
    bar = tqdm(total=len(state.todo), desc="Dalles", unit="dalle", disable=not opts.progress)
    startup = 0.0
    blocks = block_jobs(job, inputs, state)
    workers = opts.workers
    if workers is None:  # what fits: one per core, as memory allows
        choice = default_workers()
        workers = min(choice.workers, max(1, len(blocks)))
        if opts.log is not None and opts.scheduler is None and blocks:
            opts.log(f"Calcul : {replace(choice, workers=workers)}.")
    for result in run_blocks(blocks, tables, workers, opts.scheduler):
        startup += result.startup_s
        record_block(state, result, weather.get("name"))
        state.manifest.write(path)
        bar.update(len(result.done))
    bar.close()
    report.startup_s = round(startup, 2)  # loading the kernels, once per process
    return weather


def _sky(job: BuildJob):
    """The sky tables of the build's weather and parameters (cached) and its description."""
    p = job.params
    return cached_sky_tables(job.weather, p.model, p.n_sectors, p.albedo, job.options.cache_dir)


def compute_faces(
    job: BuildJob, inputs: CheckedInputs, state: BuildState, report: BuildReport
) -> None:
    """The faces stage (:mod:`~layers.solar.build_faces`) for every stored tile that needs it.

    From the LiDAR folder and the store's COGs, no sweep: a store built before faces
    existed gets them from ``solar build`` without its sky recomputed. A tile whose LiDAR
    is not in this run's folder waits for a run that has it.

    Parameters
    ----------
    job
        The build.
    inputs
        Its checked inputs.
    state
        The build's state; its manifest gets each tile's faces digest.
    report
        Gets the tiles whose faces were made.

    Returns
    -------
    None
    """
    stage = FaceStage(panels=job.panels, roofs=job.rules)
    out = Path(job.out)
    todo = faces_todo(state.manifest, state.stored, stage, out)
    none = next(iter(inputs.by_tile.values())).iloc[:0] if inputs.by_tile else None
    tiles = {}
    cogs = store_cogs(out) if todo else {}
    for name in todo:
        key = key_of(name)
        if key in inputs.lidar and none is not None:
            mine = inputs.by_tile.get(key, none).drop(columns="_tile", errors="ignore")
            tiles[name] = TileFaces(name, inputs.lidar, mine, job.params.margin, out, cogs)
    if not tiles:
        return
    opts = job.options
    tables, _ = _sky(job)
    workers = opts.workers or default_workers().workers
    manifest, path = state.manifest, StoreLayout(out).manifest
    t0 = time.perf_counter()
    with tqdm(total=len(tiles), desc="Pans", unit="dalle", disable=not opts.progress) as bar:
        for name in run_faces([tiles[n] for n in sorted(tiles)], stage, tables, workers):
            manifest.pans[name] = stage.digest(manifest.dalles[name])
            manifest.write(path)  # a kill loses no tile done
            report.faces += 1
            bar.update(1)
    report.faces_s = round(time.perf_counter() - t0, 2)


def record_block(state: BuildState, result: BlockResult, climate: object) -> None:
    """Each tile of a finished block into the manifest (not yet written).

    Parameters
    ----------
    state
        The build's state.
    result
        What the block's worker returned.
    climate
        The typical year's name.

    Returns
    -------
    None
    """
    names = state.names
    for done in result.done:
        state.manifest.dalles[names[done.key]] = TileRecord(
            entrees=state.records[done.key],
            sans_batiment=done.no_building,
            voisins_absents=[tile_name(m) for m in done.missing],
            duree_s=round(result.seconds / len(result.done), 2),
            bloc=[names[d.key] for d in result.done],
            calcule_par=result.who,
            rss_mo=round(result.peak_mb),
            climat=None if climate is None else str(climate),
        )


def finish(
    job: BuildJob, context: Context, state: BuildState, weather: dict, report: BuildReport
) -> None:
    """Assemble the store's tables unless they are up to date, then close the manifest.

    Parameters
    ----------
    job
        The build.
    context
        Communes and addresses.
    state
        The build's state (every tile recorded).
    weather
        The weather's description.
    report
        Gets whether the tables were assembled, and the time it took.

    Returns
    -------
    None
    """
    manifest = state.manifest
    stored = state.stored
    for gone in set(manifest.dalles) - set(stored):  # records without their tables
        manifest.dalles.pop(gone)
    done = signature(manifest, context)
    layout = StoreLayout(Path(job.out))
    report.assembled = bool(
        state.todo or report.faces or manifest.finition != done or not layout.gpkg.is_file()
    )
    if not report.assembled:  # nothing changed: the store stays as it is, untouched
        if manifest.version != MANIFEST_VERSION:  # but its manifest in the current layout
            manifest.write(layout.manifest)
        return
    # a store already complete stays readable while its tables are rebuilt (each written
    # under a temporary name, then renamed); a new store is complete only after this
    t0 = time.perf_counter()
    synthetic = assemble(Path(job.out), stored, context)
    report.assembly_s = round(time.perf_counter() - t0, 2)
    if manifest.pans:
        report.unseen = len(unseen_of(layout, [n for n in stored if n in manifest.pans]))
    # what the tiles' own times leave out
    manifest.dernier_calcul = {
        "demarrage_s": report.startup_s,
        "assemblage_s": report.assembly_s,
        "pans_s": report.faces_s,  # wall time of the faces stage, its report.faces tiles
        "pans_dalles": report.faces,
    }
    manifest.finition = done
    manifest.climat = manifest_climate(weather)
    manifest.parametres = manifest_parameters(asdict(job.params))
    manifest.synthetique = synthetic
    manifest.format = FORMAT
    manifest.termine = True
    manifest.write(layout.manifest)


def _write_errors() -> tuple[type[BaseException], ...]:
    """What a full disk, a quota or a file size limit raises through GDAL and the OS."""
    from rasterio._err import CPLE_BaseError

    return (OSError, CPLE_BaseError, pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError)


WRITE_ERRORS = _write_errors()


@contextmanager
def store_lock(out: Path, dry_run: bool, wait: bool = False) -> Iterator[None]:
    """Hold the store's lock for the whole build (not for a dry run, which writes nothing).

    A second build into the same store is refused at once, with who holds it (``wait``:
    it waits for the first to finish, then finds the store up to date — the demo store
    prepared by several app processes at once). The lock is an ``flock`` on
    ``out/.verrou-build``: released by the system if the process dies.

    Parameters
    ----------
    out
        The store's folder.
    dry_run
        No lock (nothing is written).
    wait
        Wait for the lock instead of refusing.

    Raises
    ------
    SolarError
        Another build holds the store (without ``wait``).

    Yields
    ------
    None
        While the lock is held.
    """
    if dry_run:
        yield
        return
    with hold(StoreLayout(out).lock, _busy, wait):
        yield


def _busy(who: str) -> str:
    return (
        f"Un autre calcul écrit déjà dans ce magasin ({who}) : rien n'a été fait. "
        "Attendez qu'il se termine, puis relancez (les dalles à jour ne sont pas refaites)."
    )


__all__ = [
    "BLOCK",
    "FORMAT",
    "BuildJob",
    "BuildOptions",
    "BuildParams",
    "BuildReport",
    "build",
    "mosaic",
    "read_buildings",
    "roof_mask",
    "scan_lidar",
    "tile_inputs",
]
