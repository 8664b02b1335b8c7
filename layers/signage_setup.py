"""Creating and filling a signage store: the synthetic sample, and imports of real files.

Import formats (documented in the README): a CSV (``;`` or ``,``) with ``lon`` and ``lat``
columns (WGS84) plus the sign fields, or a GeoPackage / GeoJSON layer with a CRS.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from layers.errors import AtlasError
from layers.signage import FIELDS, generate_sample
from layers.store import StoreError, create_geopackage, create_postgis, open_store
from layers.territory import load_territory


def init_store(target: str, geodata_dir: Path, force: bool = False) -> int:
    """Create the store with the synthetic sample; refuses to overwrite unless ``force``."""
    from layers.parks import load_planning

    territory = load_territory(geodata_dir)
    planning = load_planning(geodata_dir, territory)
    sample = generate_sample(planning.parks, planning.links)
    if target.startswith(("postgresql://", "postgres://")):
        create_postgis(target, sample)
    else:
        path = Path(target)
        if path.exists() and not force:
            raise StoreError(f"{path} existe déjà : --force pour le remplacer.")
        if path.exists():
            path.unlink()
        create_geopackage(path, sample)
    return len(sample)


def read_import(path: Path) -> gpd.GeoDataFrame:
    """Read an import file into a frame of signs (EPSG:4326), with a French error."""
    path = Path(path)
    if not path.is_file():
        raise AtlasError(f"Fichier d'import introuvable : {path}")
    try:
        if path.suffix.lower() == ".csv":
            table = pd.read_csv(path, sep=None, engine="python", dtype=str)
            if not {"lon", "lat"} <= set(table.columns):
                raise AtlasError("Le CSV doit avoir des colonnes lon et lat (WGS84).")
            lon = pd.to_numeric(table.pop("lon"), errors="coerce")
            lat = pd.to_numeric(table.pop("lat"), errors="coerce")
            if lon.isna().any() or lat.isna().any():
                raise AtlasError("Coordonnées lon/lat illisibles dans le CSV.")
            frame = gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(lon, lat), crs=4326)
        else:
            frame = gpd.read_file(path)
            if frame.crs is None:
                raise AtlasError("Le fichier d'import n'a pas de système de coordonnées.")
            frame = frame.to_crs(4326)
    except AtlasError:
        raise
    except Exception as err:
        raise AtlasError(f"Fichier d'import illisible ({path}) : {err}") from err
    for col in ("cout_ht", "cofinancement_region"):
        if col in frame:
            frame[col] = pd.to_numeric(frame[col], errors="coerce")
    if "annee" in frame:
        frame["annee"] = pd.to_numeric(frame["annee"], errors="coerce").astype("Int64")
    missing = [f for f in ("type_panneau", "statut") if f not in frame.columns]
    if missing:
        raise AtlasError(f"Colonnes obligatoires absentes : {', '.join(missing)}")
    for col in FIELDS:
        if col not in frame.columns:
            frame[col] = None
    frame["qualite"] = frame["qualite"].fillna("réel (import)")
    return frame


def import_file(path: Path, target: str, geodata_dir: Path, user: str) -> int:
    """Validate every row, then add them all (nothing is added when one row is wrong)."""
    territory = load_territory(geodata_dir)
    store = open_store(target, territory)
    return store.import_signs(read_import(path), user)
