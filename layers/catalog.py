"""Layer catalogue: what each shipped layer is, where it comes from, and how to read it.

The catalogue lives in ``geodata/catalog.toml`` (one entry per layer: file, CRS, geometry
type, required fields, producer, source, licence, date and quality). The same metadata is
embedded in each GeoPackage layer (``layer_metadata``) so that a file copied elsewhere still
says what it is.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pyogrio
from pyproj import CRS

from layers.errors import CatalogError, CRSMismatchError, InvalidLayerError

CATALOG_FILE = "catalog.toml"
QUALITIES = ("réel", "indicatif", "synthétique")
QUALITY_LABELS = {
    "réel": "Donnée réelle (source officielle ouverte)",
    "indicatif": "Donnée indicative (tracé ou dérivé par Atlas PMA, non officiel)",
    "synthétique": "Donnée synthétique (fictive, pour démonstration)",
}
# GeoPackage layer metadata (persisted) → LayerInfo's field
_METADATA_KEYS = {
    "ATLAS_TITLE": "title",
    "ATLAS_QUALITE": "quality",
    "ATLAS_PRODUCER": "producer",
    "ATLAS_SOURCE": "source",
    "ATLAS_LICENCE": "licence",
    "ATLAS_DATE": "date",
}


@dataclass(frozen=True)
class LayerInfo:
    """One catalogue entry (see ``geodata/catalog.toml``)."""

    id: str
    title: str
    file: str
    layer: str
    geometry_type: str
    crs: str
    quality: str  # « qualite » in catalog.toml: one of QUALITIES
    producer: str
    source: str
    licence: str
    date: str
    description: str = ""
    required_fields: tuple[str, ...] = ()
    unique_field: str | None = None
    short_attribution: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def attribution(self) -> str:
        """Short attribution for maps: producer and date (plain text, not HTML)."""
        return self.short_attribution or f"{self.producer} — {self.date}"

    @property
    def quality_label(self) -> str:
        """French sentence describing the quality class."""
        return QUALITY_LABELS[self.quality]

    def gpkg_metadata(self) -> dict[str, str]:
        """Metadata written into the GeoPackage layer (GDAL layer metadata)."""
        return {key: str(getattr(self, name)) for key, name in _METADATA_KEYS.items()}

    def path(self, geodata_dir: Path) -> Path:
        """Absolute path of the layer's file."""
        return Path(geodata_dir) / self.file


FILE_KEYS = {"qualite": "quality"}  # catalog.toml's French keys → LayerInfo's fields
_ENTRY_KEYS = frozenset(LayerInfo.__dataclass_fields__) - {"id", "extra"}


def load_catalog(geodata_dir: Path) -> dict[str, LayerInfo]:
    """Read ``catalog.toml`` from ``geodata_dir``.

    Raises
    ------
    CatalogError
        If the file is missing, is not valid TOML or an entry lacks a key.
    """
    path = Path(geodata_dir) / CATALOG_FILE
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise CatalogError(f"Catalogue des couches introuvable : {path}") from err
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise CatalogError(f"Catalogue des couches illisible ({path}) : {err}") from err
    entries = raw.get("layers")
    if not isinstance(entries, dict) or not entries:
        raise CatalogError(f"Le catalogue {path} ne déclare aucune couche ([layers.<id>]).")
    catalog = {}
    for layer_id, entry in entries.items():
        entry = {FILE_KEYS.get(k, k): v for k, v in entry.items()}
        known = {k: v for k, v in entry.items() if k in _ENTRY_KEYS}
        known["required_fields"] = tuple(known.get("required_fields", ()))
        extra = {k: str(v) for k, v in entry.items() if k not in _ENTRY_KEYS}
        try:
            info = LayerInfo(id=layer_id, extra=extra, **known)
        except TypeError as err:
            raise CatalogError(f"Entrée « {layer_id} » incomplète dans {path} : {err}") from err
        if info.quality not in QUALITIES:
            raise CatalogError(
                f"Couche « {layer_id} » : qualité « {info.quality} » inconnue "
                f"(attendu : {', '.join(QUALITIES)})."
            )
        catalog[layer_id] = info
    return catalog


def read_layer(info: LayerInfo, geodata_dir: Path) -> gpd.GeoDataFrame:
    """Read one catalogue layer, checked against its entry.

    Raises
    ------
    InvalidLayerError
        Missing or unreadable file, empty layer, missing CRS or required fields.
    CRSMismatchError
        The file's CRS differs from the declared one.
    """
    path = info.path(geodata_dir)
    if not path.is_file():
        raise InvalidLayerError(f"Couche « {info.title} » : fichier introuvable ({path}).")
    try:
        gdf = pyogrio.read_dataframe(path, layer=info.layer)
    except Exception as err:  # pyogrio raises several DataSource/DataLayer errors
        raise InvalidLayerError(
            f"Couche « {info.title} » : fichier illisible ou corrompu ({path}) : {err}"
        ) from err
    if gdf.crs is None:
        raise InvalidLayerError(f"Couche « {info.title} » : aucun système de coordonnées (CRS).")
    if not CRS.from_user_input(gdf.crs).equals(CRS.from_user_input(info.crs)):
        raise CRSMismatchError(
            f"Couche « {info.title} » : CRS {gdf.crs.to_string()} au lieu de {info.crs}."
        )
    if gdf.empty:
        raise InvalidLayerError(f"Couche « {info.title} » : aucune entité.")
    missing = [f for f in info.required_fields if f not in gdf.columns]
    if missing:
        raise InvalidLayerError(
            f"Couche « {info.title} » : champ(s) obligatoire(s) absent(s) : {', '.join(missing)}."
        )
    return gdf


def write_layer(
    gdf: gpd.GeoDataFrame,
    info: LayerInfo,
    geodata_dir: Path,
    metadata: dict[str, str] | None = None,
) -> Path:
    """Write a catalogue layer into its GeoPackage, with its metadata (or ``metadata``)."""
    path = info.path(geodata_dir)
    pyogrio.write_dataframe(
        gdf,
        path,
        layer=info.layer,
        driver="GPKG",
        layer_metadata=info.gpkg_metadata() if metadata is None else metadata,
        promote_to_multi=info.geometry_type.startswith("Multi"),
    )
    return path


def read_layer_metadata(info: LayerInfo, geodata_dir: Path) -> dict[str, str]:
    """Metadata embedded in the layer's file (empty when the format has none)."""
    meta = pyogrio.read_info(info.path(geodata_dir), layer=info.layer).get("layer_metadata")
    return dict(meta or {})
