"""Creating and filling a signage store: the synthetic sample, and imports of real files.

Import formats (documented in the README): a CSV (``;`` or ``,``) with ``lon`` and ``lat``
columns (WGS84) plus the sign fields, or a GeoPackage / GeoJSON layer with a CRS.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from layers.errors import AtlasError
from layers.signage import FIELDS, STATUSES, TYPES, Status, generate_sample, parse_number
from layers.signage_store import (
    ImportReport,
    StoreError,
    create_geopackage,
    create_postgis,
    open_store,
)
from layers.territory import Territory, load_territory


def init_store(target: str, geodata_dir: Path, force: bool = False) -> int:
    """Create the store with the synthetic sample; refuses to overwrite unless ``force``."""
    from layers.parks import load_planning

    territory = load_territory(geodata_dir)
    planning = load_planning(geodata_dir, territory)
    sample = generate_sample(planning.parks, planning.links)
    if target.startswith(("postgresql://", "postgres://")):
        create_postgis(target, sample, force=force)
    else:
        path = Path(target)
        if path.exists() and not force:
            raise StoreError(f"{path} existe déjà : --force pour le remplacer.")
        for extra in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            extra.unlink(missing_ok=True)
        create_geopackage(path, sample)
    return len(sample)


def read_import(path: Path) -> gpd.GeoDataFrame:
    """Read an import file into a frame of signs (EPSG:4326), with a French error.

    CSV files may come from Excel (« CSV UTF-8 » with a byte-order mark, ``;``) or
    elsewhere (``,``); numbers may be written the French way (``1 234,50``). Lines are
    counted as in the file (the header is line 1): ``frame.attrs["first_line"]``.
    """
    path = Path(path)
    if not path.is_file():
        raise AtlasError(f"Fichier d'import introuvable : {path}")
    first_line = 1
    try:
        if path.suffix.lower() == ".csv":
            table = pd.read_csv(
                path,
                sep=None,
                engine="python",
                dtype=str,
                encoding="utf-8-sig",
                keep_default_na=False,
            )
            table.columns = [str(c).strip() for c in table.columns]
            if not {"lon", "lat"} <= set(table.columns):
                raise AtlasError("Le CSV doit avoir des colonnes lon et lat (WGS84).")
            first_line = 2
            coords, problems = [], []
            for i, (lon, lat) in enumerate(zip(table.pop("lon"), table.pop("lat"), strict=True)):
                try:
                    x, y = parse_number(lon), parse_number(lat)
                except ValueError:
                    x = y = None
                if x is None or y is None:
                    problems.append(
                        f"ligne {i + first_line} : lon/lat illisibles « {lon} », « {lat} »"
                    )
                coords.append((x or 0.0, y or 0.0))
            if problems:
                raise AtlasError(
                    "Import refusé, rien n'a été modifié. " + " ; ".join(problems[:20])
                )
            frame = gpd.GeoDataFrame(
                table.replace({"": None}),
                geometry=gpd.points_from_xy([c[0] for c in coords], [c[1] for c in coords]),
                crs=4326,
            )
        else:
            frame = gpd.read_file(path)
            if frame.crs is None:
                raise AtlasError("Le fichier d'import n'a pas de système de coordonnées.")
            frame = frame.to_crs(4326)
    except AtlasError:
        raise
    except Exception as err:
        if "field larger than field limit" in str(err):
            raise AtlasError(
                "Import refusé, rien n'a été modifié : un champ du fichier dépasse 131 072 "
                "caractères (texte trop long)."
            ) from err
        raise AtlasError(f"Fichier d'import illisible ({path.name}) : {err}") from err
    if frame.empty:
        raise AtlasError(f"Fichier d'import vide : {path.name}")
    missing = [f for f in ("type_panneau", "statut") if f not in frame.columns]
    if missing:
        raise AtlasError(f"Colonnes obligatoires absentes : {', '.join(missing)}")
    for col in FIELDS:
        if col not in frame.columns:
            frame[col] = None
    frame["qualite"] = frame["qualite"].where(frame["qualite"].notna(), "réel (import)")
    frame.attrs["first_line"] = first_line
    return frame


def import_file(
    path: Path, target: str, geodata_dir: Path, user: str, update_existing: bool = False
) -> ImportReport:
    """Validate every row (its park must exist), then add them all in one transaction."""
    from layers.parks import load_planning

    territory = load_territory(geodata_dir)
    parks = set(load_planning(geodata_dir, territory).parks["parc_id"].astype(str))
    frame = read_import(path)  # read and checked before the store is opened
    store = open_store(target, territory)
    return store.import_signs(frame, user, update_existing=update_existing, parks=parks)


def write_example_csv(path: Path, rows: int, territory: Territory, seed: int = 1) -> None:
    """A synthetic import file: ``rows`` valid signs at random points inside the PMA.

    Written as Excel's « CSV UTF-8 » (BOM, ``;``, French decimals); for trying the import
    format, tests and benchmarks. Every row's ``notes`` says it is synthetic.
    """
    import shapely

    rng = np.random.default_rng(seed)
    area = territory.union_4326
    x0, y0, x1, y1 = area.bounds
    xs: list[float] = []
    ys: list[float] = []
    while len(xs) < rows:
        x = rng.uniform(x0, x1, rows)
        y = rng.uniform(y0, y1, rows)
        keep = shapely.contains_xy(area, x, y)
        xs += list(x[keep])
        ys += list(y[keep])
    status = rng.choice(STATUSES[:4], rows)
    table = pd.DataFrame(
        {
            "lon": np.round(xs[:rows], 7),
            "lat": np.round(ys[:rows], 7),
            "type_panneau": rng.choice(TYPES, rows),
            "statut": status,
            "date_demande": "2024-01-15",
            "date_conception": np.where(status != Status.REQUESTED, "2024-03-01", ""),
            "date_fabrication": np.where(
                np.isin(status, [Status.MADE, Status.INSTALLED]), "2024-05-01", ""
            ),
            "date_pose": np.where(status == Status.INSTALLED, "2024-07-01", ""),
            "parc_id": "P01",
            "cout_ht": [
                f"{c:,.2f}".replace(",", " ").replace(".", ",")
                for c in rng.uniform(150, 9000, rows)
            ],
            "cofinancement_region": "0",
            "annee": "2024",
            "notes": "synthétique (exemple d'import)",
        }
    )
    table.to_csv(path, sep=";", index=False, encoding="utf-8-sig")
