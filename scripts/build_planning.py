"""Rebuild ``geodata/parcs.gpkg`` and ``geodata/friches.gpkg`` from the open data copies.

A maintainer's tool (reads ``../shared/data``), run by hand when sources change. The app,
tests and ``make`` only read what it writes into ``geodata/``.

Park geometry is *réelle* when it is a polygon of the Mission Bassin Minier layers (or a
dissolve of them), *indicative* when we drew it (a circle of the documented area, or a
corridor along the communes a canal crosses): every feature says which, with a note.

    python scripts/build_planning.py [--shared ../shared/data] [--out geodata]
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
from shapely.geometry import LineString, Point
from shapely.ops import unary_union

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from layers.catalog import load_catalog, write_layer  # noqa: E402

L93 = 2154
MBM = "Mission Bassin Minier Nord-Pas de Calais (data.gouv.fr), couches UNESCO"
MBM_DATE = "copie rlespinasse/bassin-minier-unesco @db8dc78"
INVEST = "https://investinartois.fr/chaine-des-parcs"

# Facts with their sources, for parks whose outline is not in an open layer.
REAL_NOTE = "Contour issu des couches de la Mission Bassin Minier."
INDICATIVE_NOTE_CIRCLE = (
    "Contour indicatif : cercle de la surface publiée ({ha} ha) centré sur "
    "{anchor} — position et forme approximatives."
)
INDICATIVE_NOTE_CORRIDOR = (
    "Contour indicatif : couloir de {width} m le long d'une ligne reliant "
    "les mairies de {communes} — le tracé réel suit le cours d'eau."
)


def _mairie(mairies: gpd.GeoDataFrame, nom: str) -> Point:
    row = mairies.loc[mairies["nom"] == nom]
    if row.empty:
        raise SystemExit(f"mairie introuvable : {nom}")
    return row.geometry.iloc[0]


def _circle(center: Point, hectares: float) -> object:
    return center.buffer(math.sqrt(hectares * 10_000 / math.pi), 64)


def _triple_point(communes: gpd.GeoDataFrame, names: list[str]) -> Point:
    """Centroid of where the outlines of the named communes meet (all in Lambert-93)."""
    geoms = [communes.loc[communes["nom"] == n].geometry.iloc[0] for n in names]
    meet = geoms[0].buffer(50)
    for g in geoms[1:]:
        meet = meet.intersection(g.buffer(50))
    if meet.is_empty:
        raise SystemExit(f"pas de point commun à {names}")
    return meet.centroid


def build_parks(shared: Path) -> dict[str, gpd.GeoDataFrame]:
    communes = gpd.read_file(shared / "territory/pma_communes.geojson").to_crs(L93)
    mairies = gpd.read_file(shared / "territory/pma_mairies.geojson").to_crs(L93)
    zt = gpd.read_file(shared / "parks/zt-espaces-neonaturels_pma.geojson").to_crs(L93)
    inscrit = gpd.read_file(shared / "parks/espace-neonaturel_pma.geojson").to_crs(L93)
    terrils = gpd.read_file(shared / "parks/terrils_pma_unesco.geojson").to_crs(L93)

    rows: list[dict] = []

    def add(nom, typ, geom, source, note=None, statut="non renseigné", detail="", mo="", url=""):
        """One park; ``note`` says how an indicative outline was drawn (None = real)."""
        rows.append(
            dict(
                nom=nom,
                type=typ,
                statut=statut,
                statut_detail=detail,
                maitre_ouvrage=mo,
                geometrie="indicative" if note else "réelle",
                geometrie_note=note or REAL_NOTE,
                source=source,
                source_url=url,
                geometry=geom,
            )
        )

    def real(nom, typ, geom, source, **kw):
        add(nom, typ, geom, source, **kw)

    def indicative(nom, typ, geom, note, source, **kw):
        add(nom, typ, geom, source, note=note, **kw)

    renames = {"Calonnix - Parc de la clarence": "Calonnix – Parc de la Clarence (Deux Vallées)"}
    for _, r in zt.iterrows():
        real(
            renames.get(r["nom"], r["nom"]),
            "espace néo-naturel",
            r.geometry,
            f"{MBM} — espaces néo-naturels (zone tampon) ; {MBM_DATE}",
        )
    for _, r in inscrit.iterrows():
        real(
            r["nom"],
            "espace néo-naturel",
            r.geometry,
            f"{MBM} — espaces néo-naturels (bien inscrit) ; {MBM_DATE}",
        )

    def terril_union(codes):
        part = terrils[terrils["no_terril"].isin(codes)]
        if len(part) != len(codes):
            raise SystemExit(f"terrils manquants : {codes}")
        return unary_union(part.geometry)

    real(
        "Base 11/19 – terrils jumeaux 74, 74A et 74B",
        "terril",
        terril_union(["T074", "T074a", "T074b"]),
        f"{MBM} — terrils (bien inscrit) ; {MBM_DATE}",
        statut="ouvert",
        detail="site ouvert au public (terrils, base 11/19)",
        url=INVEST,
    )
    real(
        "Terril de Pinchonvalles (T075)",
        "terril",
        terril_union(["T075"]),
        f"{MBM} — terrils (bien inscrit) ; {MBM_DATE}",
    )
    real(
        "Terrils du secteur du Parc des Iles (T205, T101, T084)",
        "terril",
        terril_union(["T205", "T101", "T084"]),
        f"{MBM} — terrils (bien inscrit) ; {MBM_DATE}",
    )
    loisinord = terrils.loc[terrils["nom_usuel"] == "Loisinord"]
    real(
        "Loisinord",
        "base de loisirs",
        loisinord.geometry.iloc[0],
        f"{MBM} — terrils (zone tampon, nom usuel Loisinord) ; {MBM_DATE}",
        statut="ouvert",
        detail="base de loisirs ouverte (piste de ski sur le terril)",
        url=INVEST,
    )

    iles_center = _triple_point(communes, ["Rouvroy", "Drocourt", "Hénin-Beaumont"])
    indicative(
        "Parc des Iles",
        "parc urbain",
        _circle(iles_center, 45),
        INDICATIVE_NOTE_CIRCLE.format(
            ha=45, anchor="le point de rencontre de Rouvroy, Drocourt et Hénin-Beaumont"
        ),
        "PMA / Euralens (pages publiques) : 45 ha sur l'ancienne cokerie de Drocourt",
        statut="ouvert",
        detail="ouvert depuis 2013",
        url=INVEST,
    )
    indicative(
        "Parc départemental d'Olhain",
        "base de loisirs",
        _circle(_mairie(mairies, "Maisnil-lès-Ruitz"), 450),
        INDICATIVE_NOTE_CIRCLE.format(ha=450, anchor="la mairie de Maisnil-lès-Ruitz"),
        "La Gazette France (2024) : 450 ha, propriété du Département, inauguré en 1973",
        statut="ouvert",
        detail="ouvert depuis 1973",
        mo="Département du Pas-de-Calais",
        url="https://www.lagazettefrance.fr/article/parc-d-olhain-un-poumon-vert-au-c-ur-du-pas-de-calais",
    )
    louvre = gpd.GeoSeries([Point(2.8046, 50.4316)], crs=4326).to_crs(L93).iloc[0]
    indicative(
        "Parc du Louvre-Lens (Centralité)",
        "parc urbain",
        _circle(louvre, 20),
        INDICATIVE_NOTE_CIRCLE.format(ha=20, anchor="le musée du Louvre-Lens"),
        "Euralens : parc du musée, cœur du plan « Euralens centralité »",
        statut="ouvert",
        detail="ouvert avec le musée (2012)",
        url="https://www.euralens.org/actions/la-chaine-des-parcs.html",
    )

    def corridor(names, width):
        line = LineString([_mairie(mairies, n) for n in names])
        return line.buffer(width / 2, cap_style="round"), ", ".join(names)

    geom, names = corridor(["Loison-sous-Lens", "Noyelles-sous-Lens", "Harnes", "Courrières"], 100)
    indicative(
        "Parc des Berges de la Souchez",
        "canal / berges",
        geom,
        INDICATIVE_NOTE_CORRIDOR.format(width=100, communes=names),
        "VPAH Hauts-de-France : parc créé, travaux réalisés en 2018-2019",
        statut="ouvert",
        detail="travaux réalisés en 2018-2019 ; jalonnement 2020",
        url="https://vpah-hauts-de-france.fr/ressources/parc-des-berges-de-la-souchez",
    )
    geom, names = corridor(["Cuinchy", "Béthune", "Guarbecque", "Isbergues"], 100)
    indicative(
        "Canal d'Aire – Gare d'eau de Béthune",
        "canal / berges",
        geom,
        INDICATIVE_NOTE_CORRIDOR.format(width=100, communes=names),
        "PMA (pages publiques) : signalétique du Canal d'Aire cofinancée en 2020",
        url=INVEST,
    )
    geom, names = corridor(["Vendin-le-Vieil", "Pont-à-Vendin", "Meurchin"], 100)
    indicative(
        "Canal de la Deûle (Wingles)",
        "canal / berges",
        geom,
        INDICATIVE_NOTE_CORRIDOR.format(width=100, communes=names),
        "PMA (pages publiques) : groupe de parcs du Canal de la Deûle",
        url=INVEST,
    )
    indicative(
        "Étude de cas Lys-Romane",
        "étude de cas",
        _circle(_mairie(mairies, "Lillers"), 1250),
        "Périmètre d'étude indicatif : cercle de 1 250 ha centré sur la mairie de "
        "Lillers ; le périmètre réel de l'étude n'est pas publié en données ouvertes.",
        "PMA : étude de cas Lys-Romane lancée en 2020",
        statut="en étude",
        detail="étude lancée en 2020",
    )

    parks = gpd.GeoDataFrame(rows, crs=L93)
    parks.insert(0, "parc_id", [f"P{i + 1:02d}" for i in range(len(parks))])
    parks["date_source"] = "2026-11"
    parks = parks.to_crs(4326)

    cav = gpd.read_file(shared / "parks/cavaliers_pma.geojson")
    comm_cols = [c for c in cav.columns if c.startswith("commune_")]
    cav["communes_source"] = cav[comm_cols].apply(
        lambda r: ", ".join(str(v) for v in r if isinstance(v, str)), axis=1
    )
    cavaliers = cav[["id_unesco", "communes_source", "longueur_m", "geometry"]].copy()
    cavaliers.insert(0, "liaison_id", [f"C{i + 1:02d}" for i in range(len(cavaliers))])
    cavaliers["nom"] = "Cavalier " + cavaliers["id_unesco"].astype(str)
    cavaliers["geometrie"] = "réelle"

    links = indicative_links(parks.to_crs(L93), max_km=8.0).to_crs(4326)

    keep_t = [
        "no_terril",
        "nom",
        "nom_usuel",
        "forme",
        "perimetre",
        "commune_1",
        "area_ha",
        "geometry",
    ]
    terr = gpd.read_file(shared / "parks/terrils_pma_unesco.geojson")[keep_t]
    bati = gpd.read_file(shared / "heritage/batis_pma.geojson")[
        [
            "nom",
            "denomination",
            "typologie",
            "protection",
            "periode",
            "compagnie",
            "commune_1",
            "geometry",
        ]
    ]
    puits = gpd.read_file(shared / "heritage/puits-de-mines_pma.geojson")[
        [
            "commune",
            "compagnie",
            "fosse",
            "puits",
            "creusement",
            "fermeture",
            "profondeur",
            "brgm",
            "geometry",
        ]
    ]
    return {
        "parcs": parks,
        "cavaliers": cavaliers,
        "liaisons_indicatives": links,
        "terrils": terr,
        "patrimoine_bati": bati,
        "puits": puits,
    }


def indicative_links(parks_l93: gpd.GeoDataFrame, max_km: float) -> gpd.GeoDataFrame:
    """Straight lines of a minimum spanning tree between parks closer than ``max_km``."""
    pts = parks_l93.geometry.representative_point().to_list()
    n = len(pts)
    edges = sorted((pts[i].distance(pts[j]), i, j) for i in range(n) for j in range(i + 1, n))
    parent = list(range(n))

    def find(a):
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    rows = []
    for dist, i, j in edges:
        if dist > max_km * 1000:
            break
        if find(i) != find(j):
            parent[find(i)] = find(j)
            a, b = parks_l93.iloc[i], parks_l93.iloc[j]
            rows.append(
                dict(
                    nom=f"{a['nom']} ↔ {b['nom']}",
                    de=a["parc_id"],
                    vers=b["parc_id"],
                    geometrie="indicative",
                    geometrie_note="Liaison à vol d'oiseau (arbre couvrant minimal "
                    f"entre parcs distants de moins de {max_km:g} km) : "
                    "illustre une continuité à créer ou à vérifier, "
                    "pas un itinéraire existant.",
                    geometry=LineString([pts[i], pts[j]]),
                )
            )
    links = gpd.GeoDataFrame(rows, crs=parks_l93.crs)
    links.insert(0, "liaison_id", [f"L{i + 1:02d}" for i in range(len(links))])
    return links


def build_brownfields(shared: Path) -> gpd.GeoDataFrame:
    raw = gpd.read_file(shared / "brownfields/cartofriches_pma_2024-03.geojson")
    cols = [
        "site_id",
        "site_nom",
        "site_type",
        "site_statut",
        "site_surface",
        "activite_libelle",
        "activite_fin_annee",
        "site_occupation",
        "site_reconv_type",
        "site_projet",
        "sol_pollution_existe",
        "sol_pollution_origine",
        "sol_pollution_commentaire",
        "proprio_personne",
        "urba_zone_type",
        "urba_zone_lib",
        "urba_doc_type",
        "source_nom",
        "site_identif_date",
        "site_actu_date",
        "site_url",
        "comm_nom",
        "comm_insee",
        "geometry",
    ]
    out = raw[cols].copy()
    out["insee"] = out["comm_insee"].astype(str)
    out["verifie"] = ~out["source_nom"].str.contains("non vérifié", na=False)
    for col in ("site_identif_date", "site_actu_date"):
        out[col] = pd.to_datetime(out[col]).dt.strftime("%Y-%m-%d")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "geodata")
    args = parser.parse_args(argv)
    catalog = load_catalog(args.out)
    frames = build_parks(args.shared) | {"friches": build_brownfields(args.shared)}
    for layer_id, gdf in frames.items():
        info = catalog[layer_id]
        target = write_layer(gdf, info, args.out)
        print(f"{layer_id}: {len(gdf)} entités -> {target}:{info.layer}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
