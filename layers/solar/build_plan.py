"""The build's plan: what each tile depends on, and which tiles to compute, skip or keep.

:func:`tile_inputs` makes a tile's record (checksums of everything its outputs depend on);
:func:`plan` compares the records with the store's manifest and returns a
:class:`BuildState`: the manifest being updated, the tiles to compute, those kept from
earlier runs. A rerun recomputes exactly the tiles whose record changed or whose roofs are
missing; a partial run (``--area``, a folder of new tiles) keeps every tile computed before.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import geopandas as gpd

from layers.solar.grid import Key
from layers.solar.inputs import sha256_file
from layers.solar.pipeline import SkyParams
from layers.solar.rules import RoofRules
from layers.solar.store import Manifest, StoreLayout, TileInputs, manifest_parameters, tile_name

FORMAT = 2  # what the computation writes (2: roofs mostly without LiDAR are « sans données »)
LIDAR = dict[Key, dict[str, Path]]


def reach_km(params: SkyParams) -> int:
    """Tiles within this many km of a tile shade it or hold its buildings' edges.

    Parameters
    ----------
    params
        The build's parameters (``max_distance`` and ``margin`` [m]).

    Returns
    -------
    int
    """
    return math.ceil((params.max_distance + float(getattr(params, "margin", 0.0))) / 1000)


def tile_inputs(
    key: Key,
    lidar: LIDAR,
    buildings: gpd.GeoDataFrame,
    params: SkyParams,
    shas: dict[Path, str],
    extra: tuple[str, RoofRules | None],
) -> TileInputs:
    """Everything a tile's outputs depend on, as checksums: the manifest's record.

    A tile is recomputed when its record changes (:class:`layers.solar.store.TileInputs`).

    Parameters
    ----------
    key
        The tile ``(x_km, y_km)`` [km].
    lidar
        Every LiDAR tile of the folder (``scan_lidar``): the neighbours within the
        shadows' reach are part of the record.
    buildings
        The tile's own buildings.
    params
        The build's parameters.
    shas
        The LiDAR files' checksums known so far, completed here.
    extra
        ``(weather file's checksum, roof rules)``: a change of the rules (thresholds, panel
        power, performance ratio) recomputes the roofs; nothing else of the app's
        assumptions does.

    Returns
    -------
    TileInputs
        The record.
    """
    weather_sha, rules = extra

    def sha(p: Path) -> str:
        if p not in shas:
            shas[p] = sha256_file(p)
        return shas[p]

    reach = reach_km(params)
    neighbours = {}
    for dx in range(-reach, reach + 1):
        for dy in range(-reach, reach + 1):
            if (dx, dy) == (0, 0):
                continue
            other = lidar.get((key[0] + dx, key[1] + dy))
            neighbours[tile_name((key[0] + dx, key[1] + dy))] = sha(other["MNS"]) if other else None
    own = lidar[key]
    return TileInputs(
        mns=sha(own["MNS"]),
        mnt=sha(own["MNT"]) if "MNT" in own else None,
        voisins=neighbours,
        batiments=hashlib.sha256(  # geometry and every attribute (carried into the store)
            buildings.drop(columns=[buildings.geometry.name, "_tile"], errors="ignore")
            .to_csv(index=False)
            .encode()
            + b"".join(buildings.geometry.to_wkb())
        ).hexdigest(),
        parametres=manifest_parameters(asdict(params)),
        meteo=weather_sha,
        regles_toits=rules.digest() if rules is not None else None,
        format=FORMAT,
    )


@dataclass
class BuildState:
    """Where a build stands: the manifest it updates and what it computes or keeps.

    Attributes
    ----------
    manifest
        The store's manifest, updated tile by tile as tiles finish.
    records
        Each wanted tile's record (:func:`tile_inputs`).
    names
        Each wanted tile's store name.
    todo
        The wanted tiles whose record changed or whose roofs are missing.
    kept
        Tiles of earlier runs outside this one, kept as they are (store names).
    steady
        Wanted tiles left as they are although neighbours computed with them are absent
        from this run's folder (store names): their stored horizon stays.
    """

    manifest: Manifest
    records: dict[Key, TileInputs]
    names: dict[Key, str]
    todo: list[Key]
    kept: list[str]
    steady: list[str] = field(default_factory=list)

    @property
    def stored(self) -> list[str]:
        """Every tile the store holds once this build is done (store names, sorted)."""
        return sorted(set(self.names.values()) | set(self.kept))


@dataclass(frozen=True, eq=False)
class PlanInputs:
    """What the plan compares with the manifest (the checked inputs of a build)."""

    lidar: LIDAR
    wanted: list[Key]
    by_tile: dict[Key, gpd.GeoDataFrame]  # the buildings, grouped by tile
    weather_sha: str
    rules: RoofRules | None


def plan(inputs: PlanInputs, params: SkyParams, manifest: Manifest, out: Path) -> BuildState:
    """Which wanted tiles to compute, which earlier tiles to keep.

    Parameters
    ----------
    inputs
        The build's checked inputs.
    params
        The build's parameters.
    manifest
        The store's manifest (empty for a new store); its checksum cache is updated.
    out
        The store's folder.

    Returns
    -------
    BuildState
    """
    layout = StoreLayout(out)
    shas = known_checksums(manifest)
    none = next(iter(inputs.by_tile.values())).iloc[:0] if inputs.by_tile else None
    records = {
        k: tile_inputs(
            k,
            inputs.lidar,
            inputs.by_tile.get(k, none),
            params,
            shas,
            (inputs.weather_sha, inputs.rules),
        )
        for k in inputs.wanted
    }
    manifest.empreintes = checksum_cache(shas)
    names = {k: tile_name(k) for k in inputs.wanted}
    steady = []
    for k in inputs.wanted:
        record = manifest.dalles.get(names[k])
        if record is not None and only_neighbours_absent(record.entrees, records[k]):
            records[k] = record.entrees  # computed with them: their horizon is in the tile
            steady.append(names[k])
    todo = [
        k
        for k in inputs.wanted
        if (record := manifest.dalles.get(names[k])) is None
        or record.entrees != records[k]
        or not layout.roofs_part(names[k]).is_file()
    ]
    # a partial run (--area, a folder with only new tiles) adds to the store: the tiles
    # computed before stay, with their records (no command removes tiles: a store with
    # fewer tiles is built anew in another folder)
    mine = set(names.values())
    kept = sorted(n for n in manifest.dalles if n not in mine and layout.roofs_part(n).is_file())
    steady = [n for n in steady if layout.roofs_part(n).is_file()]
    return BuildState(manifest, records, names, todo, kept, steady)


def only_neighbours_absent(before: TileInputs, now: TileInputs) -> bool:
    """Whether a tile's record changed only by neighbours absent from this run.

    A folder holding one tile of a territory (a tile re-delivered, a test) must not
    recompute it without the neighbours it was computed with: it would lose their shade
    (seen: 235 of 1 384 roofs moved by up to 0,6 %). A neighbour that changed, or arrived
    where there was none, still recomputes the tile.

    Parameters
    ----------
    before
        The tile's record in the manifest.
    now
        Its record from this run's inputs.

    Returns
    -------
    bool
        ``True`` when the records differ, and only by neighbours present before and absent
        now.
    """
    if before == now or replace(before, voisins={}) != replace(now, voisins={}):
        return False
    for name, sha in now.voisins.items():
        if sha != before.voisins.get(name) and not (sha is None and before.voisins.get(name)):
            return False
    return True


def known_checksums(manifest: Manifest) -> dict[Path, str]:
    """The LiDAR checksums of the last build whose file is unchanged (same size and mtime).

    Hashing every tile of a territory (2 × 1 124 files of ~10 MB for the PMA) is the
    largest fixed cost of a small rebuild; a file rewritten gets a new mtime and is hashed
    again (as ``make`` and ``rsync`` decide, a file changed in place with its size and its
    mtime restored would not be seen).

    Parameters
    ----------
    manifest
        The store's manifest (``empreintes``).

    Returns
    -------
    dict
        Path → SHA-256, for the files still as they were.
    """
    known = {}
    for path, entry in manifest.empreintes.items():
        try:
            size, mtime, digest = entry
            stat = Path(path).stat()
        except (OSError, TypeError, ValueError):
            continue
        if stat.st_size == size and stat.st_mtime_ns == mtime:
            known[Path(path)] = digest
    return known


def checksum_cache(shas: dict[Path, str]) -> dict[str, list]:
    """The manifest's ``empreintes``: path → ``[size, mtime_ns, sha256]``.

    Parameters
    ----------
    shas
        Path → SHA-256 of the files hashed or known.

    Returns
    -------
    dict
    """
    out = {}
    for path, digest in shas.items():
        stat = path.stat()
        out[str(path)] = [stat.st_size, stat.st_mtime_ns, digest]
    return out
