"""Command line: ``pma-atlas data check``, ``pma-atlas data prepare``, ``pma-atlas assets fetch``.

Exit codes: 0 success, 1 a problem was found (messages in French on stderr), 2 bad usage.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from layers.errors import AtlasError
from layers.settings import Settings


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
    """Make geodata/ ready for the app: today every layer is shipped, so this validates it.

    Later capabilities (e.g. the solar demo district) generate their derived layers here.
    """
    print("Préparation de geodata/ : toutes les couches du territoire sont livrées avec le dépôt.")
    return _cmd_data_check(args, settings)


def _cmd_assets_fetch(args: argparse.Namespace, settings: Settings) -> int:
    from layers.assets import fetch_assets, missing_assets

    dest = args.dest or settings.static_dir
    if not args.force and not missing_assets(dest):
        print(f"Ressources web déjà présentes dans {dest}.")
        return 0
    written = fetch_assets(dest)
    print(f"{len(written)} fichier(s) écrit(s) dans {dest} (registre npm).")
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
    except AtlasError as err:
        print(f"Erreur : {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
