"""Validation of the shipped layers (``pma-atlas data check``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from layers.catalog import LayerInfo, load_catalog, read_layer, read_layer_metadata
from layers.errors import USER_ERRORS


@dataclass(frozen=True)
class LayerReport:
    """Outcome of checking one layer: ``problems`` is empty when it is sound."""

    layer_id: str
    file: str
    quality: str
    features: int
    crs: str
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems


def check_layer(info: LayerInfo, geodata_dir: Path) -> LayerReport:
    """Read a layer and list what is wrong with it (nothing is modified)."""

    def report(n: int, crs: str, problems: list[str]) -> LayerReport:
        return LayerReport(
            info.id, f"{info.file}:{info.layer}", info.quality, n, crs, tuple(problems)
        )

    try:
        gdf = read_layer(info, geodata_dir)
    except USER_ERRORS as err:
        return report(0, "?", [str(err)])
    problems = []
    if gdf.geometry.isna().any() or gdf.geometry.is_empty.any():
        problems.append(
            f"{int(gdf.geometry.isna().sum() + gdf.geometry.is_empty.sum())} géométrie(s) vide(s)"
        )
    invalid = int((~gdf.geometry.is_valid).sum())
    if invalid:
        problems.append(f"{invalid} géométrie(s) invalide(s)")
    types = set(gdf.geom_type.dropna())
    allowed = {info.geometry_type, info.geometry_type.removeprefix("Multi")}
    if not types <= allowed:
        problems.append(f"type(s) de géométrie inattendu(s) : {', '.join(sorted(types - allowed))}")
    for name in info.required_fields:
        if gdf[name].isna().any():
            problems.append(f"champ « {name} » : {int(gdf[name].isna().sum())} valeur(s) vide(s)")
    if info.unique_field and gdf[info.unique_field].duplicated().any():
        problems.append(f"champ « {info.unique_field} » : valeurs en double")
    meta = read_layer_metadata(info, geodata_dir)
    stated = meta.get("ATLAS_QUALITE")
    if stated != info.quality:
        problems.append(
            f"métadonnée de qualité du fichier « {stated} » ≠ catalogue « {info.quality} »"
        )
    return report(len(gdf), gdf.crs.to_string(), problems)


def check_geodata(geodata_dir: Path) -> list[LayerReport]:
    """Check every layer of the catalogue in ``geodata_dir``."""
    return [check_layer(info, geodata_dir) for info in load_catalog(geodata_dir).values()]


def format_reports(reports: list[LayerReport]) -> str:
    """A plain-text table, one line per layer, problems indented below."""
    header = ("couche", "fichier", "qualité", "entités", "CRS", "état")
    rows = [
        (r.layer_id, r.file, r.quality, str(r.features), r.crs, "OK" if r.ok else "ERREUR")
        for r in reports
    ]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    for row, rep in zip(rows, reports, strict=True):
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
        lines.extend(f"    ! {p}" for p in rep.problems)
    return "\n".join(lines)
