"""Catalogue and layer reading: shipped metadata, and clear errors on bad files."""

from __future__ import annotations

import geopandas as gpd
import pyogrio
import pytest
from shapely.geometry import Point

from layers.catalog import QUALITIES, load_catalog, read_layer, read_layer_metadata
from layers.errors import CatalogError, CRSMismatchError, InvalidLayerError
from tests.helpers import GEODATA


def test_every_shipped_layer_states_provenance():
    catalog = load_catalog(GEODATA)
    assert {"communes", "epci", "mairies"} <= set(catalog)
    for info in catalog.values():
        assert info.quality in QUALITIES
        for text in (info.producer, info.source, info.licence, info.date, info.title):
            assert text.strip()
        # the file itself carries the same statement
        assert read_layer_metadata(info, GEODATA)["ATLAS_QUALITE"] == info.quality


def test_sources_md_lists_every_layer():
    text = (GEODATA / "SOURCES.md").read_text(encoding="utf-8")
    for info in load_catalog(GEODATA).values():
        assert f"`{info.layer}`" in text and info.licence.split(" (")[0] in text


def test_missing_catalog(tmp_path):
    with pytest.raises(CatalogError, match="introuvable"):
        load_catalog(tmp_path)


def test_corrupt_catalog(tmp_path):
    (tmp_path / "catalog.toml").write_text("[layers.x\nfile = ", encoding="utf-8")
    with pytest.raises(CatalogError, match="illisible"):
        load_catalog(tmp_path)


def test_unknown_quality(geodata_copy):
    path = geodata_copy / "catalog.toml"
    path.write_text(
        path.read_text(encoding="utf-8").replace('\nqualite = "réel"', '\nqualite = "officiel"', 1),
        encoding="utf-8",
    )
    with pytest.raises(CatalogError, match="qualité « officiel » inconnue"):
        load_catalog(geodata_copy)


def test_incomplete_entry(tmp_path):
    (tmp_path / "catalog.toml").write_text('[layers.x]\ntitle = "X"\n', encoding="utf-8")
    with pytest.raises(CatalogError, match="incomplète"):
        load_catalog(tmp_path)


def test_corrupt_file(geodata_copy):
    info = load_catalog(geodata_copy)["communes"]
    (geodata_copy / info.file).write_bytes(b"not a geopackage at all")
    with pytest.raises(InvalidLayerError, match="illisible ou corrompu"):
        read_layer(info, geodata_copy)


def test_missing_file(geodata_copy):
    info = load_catalog(geodata_copy)["communes"]
    (geodata_copy / info.file).unlink()
    with pytest.raises(InvalidLayerError, match="introuvable"):
        read_layer(info, geodata_copy)


def _rewrite(geodata, layer_id, gdf, **kwargs):
    info = load_catalog(geodata)[layer_id]
    pyogrio.write_dataframe(gdf, geodata / info.file, layer=info.layer, driver="GPKG", **kwargs)
    return info


def test_wrong_crs(geodata_copy):
    mairies = gpd.read_file(GEODATA / "territoire.gpkg", layer="mairies").to_crs(2154)
    info = _rewrite(geodata_copy, "mairies", mairies)
    with pytest.raises(CRSMismatchError, match="EPSG:2154"):
        read_layer(info, geodata_copy)


def test_missing_crs(geodata_copy):
    mairies = gpd.read_file(GEODATA / "territoire.gpkg", layer="mairies").set_crs(
        None, allow_override=True
    )
    info = _rewrite(geodata_copy, "mairies", mairies)
    with pytest.raises(InvalidLayerError, match="aucun système de coordonnées"):
        read_layer(info, geodata_copy)


def test_missing_required_field(geodata_copy):
    mairies = gpd.read_file(GEODATA / "territoire.gpkg", layer="mairies").drop(columns="adresse")
    info = _rewrite(geodata_copy, "mairies", mairies)
    with pytest.raises(InvalidLayerError, match="adresse"):
        read_layer(info, geodata_copy)


def test_empty_layer(geodata_copy):
    empty = gpd.GeoDataFrame(
        {"insee": [], "nom": [], "adresse": []}, geometry=gpd.GeoSeries([], crs=4326)
    )
    info = _rewrite(geodata_copy, "mairies", empty, geometry_type="Point")
    with pytest.raises(InvalidLayerError, match="aucune entité"):
        read_layer(info, geodata_copy)


def test_reads_valid_layer():
    info = load_catalog(GEODATA)["mairies"]
    mairies = read_layer(info, GEODATA)
    assert len(mairies) == 150 and mairies.geom_type.eq("Point").all()
    assert isinstance(mairies.geometry.iloc[0], Point)
