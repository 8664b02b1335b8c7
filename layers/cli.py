"""Command line ``pma-atlas``: every command, in French, with progress bars where long.

- ``data check``: validate every layer of geodata/ (CRS, geometries, fields, metadata).
- ``data prepare``: make geodata/ ready for the app (demo cadastre, signage sample).
- ``assets fetch``: copy Leaflet from the npm registry for the offline (intranet) mode.
- ``solar compute``: irradiation per pixel and per roof from a DSM (all or nothing).
- ``solar demo``: write the fictional demo district (DSM, DTM, roofs).
- ``solar demo-territory``: a fictional N×N km territory in the IGN (LiDAR HD tiles, BD TOPO
  batiment) and BAN formats.
- ``signs init``: create the signage inventory (refuses to replace one without --force).
- ``signs import``: import a CSV or GeoPackage of signs, in one transaction.
- ``signs hash-password``: the secrets.toml line for an editor.

Exit codes: 0 success, 1 a problem was found (messages in French on stderr), 2 bad usage.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from layers.errors import USER_ERRORS
from layers.settings import DEFAULT_WEATHER, Settings


def _cmd_data_check(args: argparse.Namespace, settings: Settings) -> int:
    from layers.checks import check_geodata, format_reports

    reports = check_geodata(args.geodata or settings.geodata_dir)
    print(format_reports(reports))
    bad = [r for r in reports if not r.ok]
    if bad:
        print(f"\n{len(bad)} couche(s) en erreur sur {len(reports)}.", file=sys.stderr)
        return 1
    print(f"\n{len(reports)} couche(s) vérifiée(s), aucune erreur.")
    return 0


def _cmd_data_prepare(args: argparse.Namespace, settings: Settings) -> int:
    """Make geodata/ ready for the app.

    The shipped layers are checked, the demo cadastre store computed once (later runs find
    it up to date in seconds), the signage sample made.
    """
    from layers.cadastre_demo import prepare_demo_store

    geodata = args.geodata or settings.geodata_dir
    print("Préparation de geodata/ : les couches du territoire sont livrées avec le dépôt.")
    built = prepare_demo_store(geodata, progress=True, cache_dir=settings.cache_dir)
    print(
        "Territoire fictif de démonstration du cadastre solaire "
        + ("calculé" if built else "déjà calculé")
        + f" ({geodata / 'cadastre-demo'})."
    )
    from layers.signage_setup import init_store

    store_path = geodata / "signaletique.gpkg"
    if not store_path.is_file():
        n = init_store(str(store_path), geodata)
        print(f"Inventaire de la signalétique créé (échantillon synthétique, {n} panneaux).")
    return _cmd_data_check(args, settings)


def _chosen_communes(communes, codes_given):
    """The communes of ``--area`` codes (EPCI codes, ``PMA``, INSEE codes), None if unknown."""
    codes = set(codes_given)
    if "PMA" in codes:
        return communes
    chosen = communes[communes["insee"].isin(codes) | communes["epci_code"].isin(codes)]
    unknown = codes - set(communes["insee"]) - set(communes["epci_code"])
    if unknown or chosen.empty:
        print(f"Erreur : code(s) inconnu(s) : {', '.join(sorted(unknown))}.", file=sys.stderr)
        return None
    return chosen


def _cmd_solar_fetch(args: argparse.Namespace, settings: Settings) -> int:
    from layers.formatting import fmt_int
    from layers.settings import fetch_services
    from layers.solar.fetch import WHAT, FetchOptions, FetchRequest, fetch
    from layers.territory import load_territory

    communes = load_territory(settings.geodata_dir).communes
    chosen = _chosen_communes(communes, args.area)
    if chosen is None:
        return 2
    what = tuple(w.strip() for w in args.what.split(",") if w.strip()) if args.what else WHAT
    area = chosen.to_crs(2154).union_all()
    centre = chosen.to_crs(2154).union_all().centroid
    from pyproj import Transformer

    lon, lat = Transformer.from_crs(2154, 4326, always_xy=True).transform(centre.x, centre.y)
    departements = sorted({str(code)[:2] for code in chosen["insee"]})
    if args.bdtopo is not None and not args.bdtopo.exists():
        print(f"Erreur : fichier BD TOPO introuvable : {args.bdtopo}", file=sys.stderr)
        return 1
    request = FetchRequest(area, (lon, lat), departements, args.out, what, args.bdtopo)
    options = FetchOptions(dry_run=args.dry_run, progress=not args.quiet)
    if args.workers is not None:
        options = FetchOptions(args.workers, args.dry_run, not args.quiet)
    report = fetch(request, fetch_services(os.environ), options)
    if args.dry_run:
        tiles = [n for n in report.planned if n.startswith("LHD_")]
        todo = len(report.planned) - len(report.present) - len(report.empty)
        print(
            f"Dalles LiDAR : {len(tiles) // 2} × (MNS + MNT) ; à télécharger : {todo} "
            f"fichier(s), ≈ {fmt_int(report.download_mb)} Mo ; disque nécessaire ≈ "
            f"{fmt_int(report.disk_mb)} Mo."
        )
        for name in report.planned:
            print(f"  {name}{' (déjà là)' if name in report.present else ''}")
        return 0
    print(report.summary())
    return 1 if report.failed else 0


def _cmd_solar_build(args: argparse.Namespace, settings: Settings) -> int:
    from layers.assumptions import load_assumptions
    from layers.solar.build import BuildJob, BuildOptions, BuildParams, build

    weather = args.weather or settings.geodata_dir / DEFAULT_WEATHER
    inputs = [("LiDAR", args.lidar), ("bâtiments", args.buildings), ("météo", weather)]
    if args.addresses:
        inputs.append(("adresses", args.addresses))
    for label, path in inputs:
        if not path.exists():
            print(f"Erreur : {label} introuvable : {path}", file=sys.stderr)
            return 1
    if args.workers is not None and not 1 <= args.workers <= 64:
        print("Erreur : --workers entre 1 et 64.", file=sys.stderr)
        return 2
    params = BuildParams(n_sectors=args.sectors, max_distance=args.max_distance, ground=args.ground)
    from layers.territory import load_territory

    try:
        communes = load_territory(settings.geodata_dir).communes
    except USER_ERRORS as err:  # the store is still useful without communes
        print(f"Avertissement : communes non chargées ({err}).", file=sys.stderr)
        communes = None
    area = None
    if args.area:
        if communes is None:
            print("Erreur : --area demande les communes du PMA (geodata/).", file=sys.stderr)
            return 1
        chosen = _chosen_communes(communes, args.area)
        if chosen is None:
            return 2
        area = chosen.to_crs(2154).union_all()
    if args.weather is None:
        from layers.solar.fetch import default_weather

        fetched = default_weather(args.lidar)
        if fetched is not None:
            weather = fetched
            print(f"Climat : {fetched} (TMY PVGIS récupéré par solar fetch).", file=sys.stderr)
    report = build(
        BuildJob(
            lidar_dir=args.lidar,
            buildings=args.buildings,
            weather=weather,
            out=args.out,
            rules=load_assumptions(settings.geodata_dir).roof_rules(),
            panels=load_assumptions(settings.geodata_dir).panel_rules(),
            params=params,
            communes=communes,
            area=area,
            addresses=args.addresses,
            ids_from_geometry=args.ids,
            options=BuildOptions(
                dry_run=args.dry_run,
                progress=not args.quiet,
                workers=args.workers,
                scheduler=args.scheduler,
                log=lambda text: print(text, file=sys.stderr),
                cache_dir=settings.cache_dir,
                faces=not args.no_faces,
            ),
        )
    )
    todo = report.to_compute
    verb = "à calculer" if args.dry_run else "calculées"
    listed = ", ".join(todo) or "aucune"
    kept = report.kept
    print(
        f"Dalles {verb} : {len(todo)} ({listed}) ; à jour : {report.up_to_date}"
        + (f" ; gardées du magasin (hors de ce calcul) : {len(kept)}" if kept else "")
        + "."
    )
    if report.steady:
        print(
            f"Gardées telles quelles, avec l'ombre de leurs voisines absentes de ce dossier : "
            f"{len(report.steady)} ({', '.join(report.steady)}). Une voisine modifiée ou "
            "nouvelle les fait recalculer."
        )
    if report.faces:
        print(f"Pans et panneaux : {report.faces} dalle(s) traitée(s).")
    if report.unseen:
        print(
            f"Bâtiments non vus par le relevé LiDAR : {report.unseen} (la BD TOPO les a, le "
            "modèle de surface montre le sol : construits après le relevé, ou trou du relevé) "
            "— sans chiffres, comptés par commune (classe_non_vu)."
        )
    if report.addresses:
        print(f"Adresses : {report.addresses}.")
    return 0


def _cmd_solar_dsm(args: argparse.Namespace, settings: Settings) -> int:
    from tqdm import tqdm

    from layers.solar.points import point_files, rasterise

    if not args.points.exists():
        print(f"Erreur : nuages de points introuvables : {args.points}", file=sys.stderr)
        return 1
    files = point_files(args.points)
    if not files:
        print(f"Erreur : aucun fichier .las ou .laz dans {args.points}", file=sys.stderr)
        return 1
    with tqdm(desc="Points", unit=" pts", unit_scale=True, disable=args.quiet) as bar:
        names = rasterise(files, args.out, max_gap_m=args.max_gap, progress=bar.update)
    print(f"Dalles écrites dans {args.out} : {len(names)} ({', '.join(names)}).")
    return 0


def _cmd_solar_roof(args: argparse.Namespace, settings: Settings) -> int:
    import json
    import math

    from pyproj import Transformer

    from layers.solar.store import Reader

    if not (
        math.isfinite(args.lon)
        and math.isfinite(args.lat)
        and -180 <= args.lon <= 180
        and -90 <= args.lat <= 90
    ):
        print("Erreur : coordonnées invalides (--lon, --lat en degrés WGS84).", file=sys.stderr)
        return 2
    x, y = Transformer.from_crs(4326, 2154, always_xy=True).transform(args.lon, args.lat)
    try:
        reader = Reader.open(args.store)
        if reader is None:
            print(f"Erreur : aucun cadastre terminé dans {args.store}.", file=sys.stderr)
            return 2
        roof = reader.roof_at(x, y)
    except USER_ERRORS as err:
        print(f"Erreur : {err}", file=sys.stderr)
        return 2
    if roof is None:
        print("Aucun toit calculé à cet endroit.", file=sys.stderr)
        return 3
    roof.update(_faces_json(reader, roof))
    print(json.dumps(roof, ensure_ascii=False, default=str))
    return 0


def _faces_json(reader, roof: dict) -> dict:
    """A roof's ``pans`` (geometry aside) and ``configurations`` (N best modules)."""
    import math

    from layers.cadastre_panels import configurations_json, roof_panels

    laid = roof_panels(reader, roof, str(roof["cleabs"]))
    rows = []
    for row in laid.faces.drop(columns=["geometry", "cleabs"], errors="ignore").to_dict("records"):
        rows.append(
            {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in row.items()}
        )
    return {"pans": rows, "configurations": configurations_json(laid.configurations)}


def _cmd_solar_demo_territory(args: argparse.Namespace, settings: Settings) -> int:
    from layers.demo.territory import write_territory

    if not 1 <= args.km <= 40:
        print("Erreur : --km entre 1 et 40.", file=sys.stderr)
        return 2
    try:
        from layers.territory import load_territory

        communes = load_territory(settings.geodata_dir).communes
    except USER_ERRORS:
        communes = None  # addresses then all say Loos-en-Gohelle
    files = write_territory(args.out, args.km, args.seed, communes)
    print(
        f"Territoire FICTIF écrit dans {args.out} : {len(files.tiles)} tuiles MNS + MNT "
        f"(format LiDAR HD), {files.buildings.name} (BD TOPO), {files.addresses.name} (BAN)."
    )
    return 0


def _cmd_assets_fetch(args: argparse.Namespace, settings: Settings) -> int:
    from layers.assets import fetch_assets, missing_assets

    dest = args.dest or settings.static_dir
    if not args.force and not missing_assets(dest):
        print(f"Ressources web déjà présentes dans {dest}.")
        return 0
    written = fetch_assets(dest)
    print(f"{len(written)} fichier(s) écrit(s) dans {dest} (registre npm).")
    return 0


def _cmd_solar_compute(args: argparse.Namespace, settings: Settings) -> int:
    from layers.assumptions import load_assumptions
    from layers.solar.pipeline import SolarParams, compute

    params = SolarParams(
        n_sectors=args.sectors,
        max_distance=args.max_distance,
        model=args.model,
        albedo=args.albedo,
        workers=args.workers,
        scheduler=args.scheduler,
        block_size=args.block_size,
    )
    for label, path in (
        ("MNS", args.dsm),
        ("météo", args.weather),
        ("toits", args.roofs),
        ("MNT", args.dtm),
    ):
        if path is not None and not path.is_file():
            print(f"Erreur : fichier {label} introuvable : {path}", file=sys.stderr)
            return 1
    report = compute(
        args.dsm,
        args.weather,
        args.out,
        params,
        roofs_path=args.roofs,
        dtm_path=args.dtm,
        progress=not args.quiet,
        rules=load_assumptions(settings.geodata_dir).roof_rules() if args.roofs else None,
        cache_dir=settings.cache_dir,
    )
    timings = ", ".join(f"{k} {v:.1f} s" for k, v in report.timings_s.items())
    print(f"Irradiation : {report.outputs['irradiation']} ({report.weather['name']})")
    if "roofs" in report.outputs:
        print(f"Toits : {report.outputs['roofs']} ({report.outputs['n_roofs']} toits)")
    print(f"Durées : {timings}")
    return 0


def _cmd_solar_demo(args: argparse.Namespace, settings: Settings) -> int:
    from layers.demo.district import generate, write_district

    paths = write_district(generate(size_m=args.size, cell=args.cell, seed=args.seed), args.out)
    print("Quartier fictif (synthétique) écrit : " + ", ".join(str(p) for p in paths.values()))
    return 0


def _cmd_signs_init(args: argparse.Namespace, settings: Settings) -> int:
    from layers.signage_setup import init_store
    from layers.signage_store import mask_dsn

    target = args.target or settings.signage_target
    n = init_store(target, settings.geodata_dir, force=args.force)
    print(
        f"Inventaire de la signalétique (échantillon synthétique, {n} panneaux) : "
        f"{mask_dsn(target)}"
    )
    return 0


def _cmd_signs_import(args: argparse.Namespace, settings: Settings) -> int:
    from layers.signage_setup import import_file
    from layers.signage_store import mask_dsn

    target = args.target or settings.signage_target
    report = import_file(
        args.file, target, settings.geodata_dir, args.user, update_existing=args.update
    )
    print(f"Import dans {mask_dsn(target)} : {report}.")
    return 0


def _cmd_hash_password(args: argparse.Namespace, settings: Settings) -> int:
    import getpass

    from layers.auth import MIN_PASSWORD, hash_password, password_problem, secrets_line

    try:
        line = secrets_line(args.user, "")  # checks the name before asking anything
    except ValueError as err:
        print(f"Erreur : {err}", file=sys.stderr)
        return 1
    password = getpass.getpass(f"Mot de passe de l'éditeur ({MIN_PASSWORD} caractères au moins) : ")
    problem = password_problem(password)
    if problem:
        print(f"Erreur : {problem}", file=sys.stderr)
        return 1
    line = secrets_line(args.user, hash_password(password))
    print(f"[editeurs]\n{line}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The ``pma-atlas`` argument parser."""
    parser = argparse.ArgumentParser(prog="pma-atlas", description="Atlas PMA — outils.")
    sub = parser.add_subparsers(dest="group", required=True)

    data = sub.add_parser("data", help="données de geodata/")
    data_sub = data.add_subparsers(dest="command", required=True)
    for name, func, text in (
        ("check", _cmd_data_check, "valide chaque couche (CRS, géométries, champs, métadonnées)"),
        ("prepare", _cmd_data_prepare, "prépare geodata/ pour l'application"),
    ):
        cmd = data_sub.add_parser(name, help=text)
        cmd.add_argument("--geodata", type=Path, help="dossier geodata (défaut : ATLAS_GEODATA)")
        cmd.set_defaults(func=func)

    solar = sub.add_parser("solar", help="cadastre solaire")
    solar_sub = solar.add_subparsers(dest="command", required=True)
    comp = solar_sub.add_parser("compute", help="irradiation annuelle par pixel et par toit")
    comp.add_argument("--dsm", type=Path, required=True, help="modèle numérique de surface")
    comp.add_argument("--dtm", type=Path, help="modèle numérique de terrain (même grille)")
    comp.add_argument("--roofs", type=Path, help="polygones des toits (GeoPackage…)")
    comp.add_argument("--weather", type=Path, required=True, help="EPW ou PVGIS TMY")
    comp.add_argument("--out", type=Path, required=True, help="dossier de sortie")
    comp.add_argument("--sectors", type=int, default=36, help="secteurs d'horizon (36)")
    comp.add_argument(
        "--max-distance", type=float, default=200.0, help="portée des ombres [m] (200)"
    )
    comp.add_argument("--model", choices=["perez", "isotropic"], default="perez")
    comp.add_argument("--albedo", type=float, default=0.2)
    comp.add_argument("--workers", type=int, default=1, help="blocs calculés à la fois")
    comp.add_argument("--scheduler", help="adresse d'un ordonnanceur dask.distributed")
    comp.add_argument(
        "--block-size",
        "--tile-size",  # its former name, kept for scripts
        type=int,
        default=1024,
        help="côté d'un bloc de calcul [px] (la mémoire suit le bloc)",
    )
    comp.add_argument("--quiet", action="store_true", help="sans barre de progression")
    comp.set_defaults(func=_cmd_solar_compute)
    demo = solar_sub.add_parser("demo", help="génère le quartier fictif de démonstration")
    demo.add_argument("--out", type=Path, required=True)
    demo.add_argument("--size", type=float, default=1000.0, help="côté [m]")
    demo.add_argument("--cell", type=float, default=0.5, help="résolution [m]")
    demo.add_argument("--seed", type=int, default=62)
    demo.set_defaults(func=_cmd_solar_demo)
    bld = solar_sub.add_parser(
        "build", help="cadastre d'un territoire : dalles LiDAR HD + bâtiments BD TOPO"
    )
    bld.add_argument("--lidar", type=Path, required=True, help="dossier des dalles MNS/MNT")
    bld.add_argument(
        "--buildings",
        type=Path,
        required=True,
        help="bâtiments BD TOPO : GeoPackage (couche batiment, du WFS ou de solar fetch) ou "
        "shapefile BATIMENT.shp d'IGN, tout système de coordonnées déclaré",
    )
    bld.add_argument(
        "--ids",
        action="store_true",
        help="contours sans identifiant IGN (nuage de points, couche communale) : les numéroter "
        "d'après leur géométrie (stable d'un lancement à l'autre)",
    )
    bld.add_argument(
        "--weather", type=Path, help=f"EPW ou PVGIS TMY (défaut : geodata/{DEFAULT_WEATHER})"
    )
    bld.add_argument(
        "--addresses",
        type=Path,
        help="adresses BAN (adresses-62.csv) : recherche et adresse → toit",
    )
    bld.add_argument("--out", type=Path, required=True, help="magasin du cadastre")
    bld.add_argument("--sectors", type=int, default=36)
    bld.add_argument("--max-distance", type=float, default=200.0)
    bld.add_argument(
        "--area", nargs="+", help="codes d'EPCI (CALL, CAHC, CABBALR) ou INSEE : dalles à calculer"
    )
    bld.add_argument(
        "--workers",
        type=int,
        help="processus de calcul locaux (défaut : ce qui tient, un par cœur et ~2,5 Go chacun)",
    )
    bld.add_argument(
        "--scheduler", help="grappe dask.distributed (tcp://hôte:8786) ; disque partagé requis"
    )
    bld.add_argument(
        "--sol",
        dest="ground",
        action="store_true",
        help="irradiation du sol aussi (carte complète, plus lent) ; par défaut : les toits",
    )
    bld.add_argument(
        "--sans-pans",
        dest="no_faces",
        action="store_true",
        help="sans l'étape des pans et panneaux (plus rapide ; un calcul suivant les fera)",
    )
    bld.add_argument("--dry-run", action="store_true", help="liste les dalles à calculer")
    bld.add_argument("--quiet", action="store_true")
    bld.set_defaults(func=_cmd_solar_build)
    fet = solar_sub.add_parser(
        "fetch", help="LiDAR HD, BD TOPO, BAN et climat PVGIS d'une zone, prêts pour build"
    )
    fet.add_argument(
        "--area", nargs="+", required=True, help="codes d'EPCI (CALL, CAHC, CABBALR), PMA ou INSEE"
    )
    fet.add_argument("--out", type=Path, required=True, help="dossier d'entrées de solar build")
    fet.add_argument("--what", help="lidar,batiments,adresses,climat (défaut : tout)")
    fet.add_argument("--bdtopo", type=Path, help="découper un fichier BD TOPO déjà téléchargé")
    fet.add_argument(
        "--workers", type=int, help="requêtes simultanées (défaut : une par cœur, de 4 à 8)"
    )
    fet.add_argument("--dry-run", action="store_true", help="liste les fichiers et la taille")
    fet.add_argument("--quiet", action="store_true")
    fet.set_defaults(func=_cmd_solar_fetch)
    dsm = solar_sub.add_parser(
        "dsm", help="MNS et MNT aux formats IGN depuis des nuages LiDAR HD classés (LAS/LAZ)"
    )
    dsm.add_argument("--points", type=Path, required=True, help="dossier ou fichier .las/.laz")
    dsm.add_argument("--out", type=Path, required=True, help="dossier des dalles MNS/MNT")
    dsm.add_argument(
        "--max-gap", type=float, default=1.0, help="trou du MNS comblé jusqu'à [m] (défaut 1)"
    )
    dsm.add_argument("--quiet", action="store_true")
    dsm.set_defaults(func=_cmd_solar_dsm)
    roof = solar_sub.add_parser("roof", help="le toit sous un point (JSON)")
    roof.add_argument("--store", type=Path, required=True)
    roof.add_argument("--lon", type=float, required=True)
    roof.add_argument("--lat", type=float, required=True)
    roof.set_defaults(func=_cmd_solar_roof)
    terr = solar_sub.add_parser(
        "demo-territory",
        help="territoire fictif de N×N tuiles aux formats IGN (LiDAR HD, BD TOPO) et BAN",
    )
    terr.add_argument("--out", type=Path, required=True)
    terr.add_argument("--km", type=int, default=2, help="côté en tuiles de 1 km (2)")
    terr.add_argument("--seed", type=int, default=62)
    terr.set_defaults(func=_cmd_solar_demo_territory)

    signs = sub.add_parser("signs", help="inventaire de la signalétique")
    signs_sub = signs.add_subparsers(dest="command", required=True)
    init = signs_sub.add_parser("init", help="crée l'inventaire (échantillon synthétique)")
    init.add_argument(
        "--target", help="GeoPackage ou DSN postgresql:// (défaut : ATLAS_SIGNALETIQUE)"
    )
    init.add_argument("--force", action="store_true", help="remplace un inventaire existant")
    init.set_defaults(func=_cmd_signs_init)
    imp = signs_sub.add_parser("import", help="importe un CSV (lon, lat) ou un GeoPackage")
    imp.add_argument("file", type=Path)
    imp.add_argument(
        "--target", help="GeoPackage ou DSN postgresql:// (défaut : ATLAS_SIGNALETIQUE)"
    )
    imp.add_argument("--user", default="import", help="auteur inscrit dans l'historique")
    imp.add_argument(
        "--mettre-a-jour",
        dest="update",
        action="store_true",
        help="remplace les panneaux existants (même identifiant) dont le contenu diffère",
    )
    imp.set_defaults(func=_cmd_signs_import)
    pw = signs_sub.add_parser("hash-password", help="ligne de secrets.toml pour un éditeur")
    pw.add_argument("user")
    pw.set_defaults(func=_cmd_hash_password)

    assets = sub.add_parser("assets", help="ressources web pour le mode hors ligne")
    assets_sub = assets.add_subparsers(dest="command", required=True)
    fetch = assets_sub.add_parser("fetch", help="télécharge Leaflet depuis le registre npm")
    fetch.add_argument("--dest", type=Path, help="dossier cible (défaut : static/vendor)")
    fetch.add_argument("--force", action="store_true", help="retélécharge même si présent")
    fetch.set_defaults(func=_cmd_assets_fetch)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``pma-atlas``."""
    args = build_parser().parse_args(argv)
    settings = Settings.from_env(os.environ)
    try:
        return int(args.func(args, settings))
    except BrokenPipeError:  # the output was piped into `head`: nothing to say
        return 0
    except OSError as err:  # a full disk, a quota, a file size limit, a read-only folder
        name = Path(err.filename).name if getattr(err, "filename", None) else ""
        print(
            f"Erreur : écriture ou lecture impossible{f' ({name})' if name else ''} : "
            f"{err.strerror or type(err).__name__}. Disque plein, quota ou droits ? Ce qui "
            "était enregistré avant reste intact ; relancez une fois la place libérée.",
            file=sys.stderr,
        )
        return 1
    except USER_ERRORS as err:
        from layers.signage_store import StoreError, mask_dsn

        print(f"Erreur : {mask_dsn(str(err))}", file=sys.stderr)
        if isinstance(err, StoreError) and err.__cause__ is not None:
            # the app hides database details from readers; the administrator needs them
            detail = " ".join(str(err.__cause__).split())[:300]
            print(f"Détail : {mask_dsn(detail)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
