"""The signage page with a large inventory: 10 000 signs against the shipped sample.

    .venv/bin/python benchmarks/signage_page.py [--rows 10000] [--runs 3]

Imports ``--rows`` generated signs (inside the PMA, see ``write_example_csv``) into a
copy of the inventory, then renders the signage page through Streamlit's AppTest (the
whole script: store read, filters, figures, map, tables) ``--runs`` times, and the same
on the shipped sample in the same run (the baseline). Prints the median time per page,
the map's size as sent to the browser and the ratio. Target (issue 21): under 2 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def page_time(target: Path, runs: int) -> tuple[float, int]:
    from streamlit.testing.v1 import AppTest

    from layers.mapping import map_payload
    from layers.parks import load_planning
    from layers.settings import DEFAULT_GEODATA, Settings
    from layers.signage_report import signage_map
    from layers.signage_store import open_store
    from layers.territory import load_territory
    from tests.helpers import switch_to

    os.environ["ATLAS_SIGNALETIQUE"] = str(target)
    times = []
    for _ in range(runs):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.run()
        t0 = time.perf_counter()
        switch_to(at, "pages/signaletique.py").run()
        times.append(time.perf_counter() - t0)
        assert not at.exception, at.exception
    territory = load_territory(DEFAULT_GEODATA)
    signs = open_store(target, territory).signs()
    planning = load_planning(DEFAULT_GEODATA, territory)
    fmap = signage_map(signs, planning.parks, Settings.from_env(os.environ), ["x"])
    return statistics.median(times), len(map_payload(fmap).encode())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from layers.settings import DEFAULT_GEODATA
    from layers.signage_setup import import_file, write_example_csv
    from layers.territory import load_territory

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "echantillon.gpkg"
        big = Path(tmp) / "grand.gpkg"
        shutil.copy(DEFAULT_GEODATA / "signaletique.gpkg", base)
        shutil.copy(DEFAULT_GEODATA / "signaletique.gpkg", big)
        csv = Path(tmp) / "inventaire.csv"
        write_example_csv(csv, args.rows, load_territory(DEFAULT_GEODATA))
        import_file(csv, str(big), DEFAULT_GEODATA, "benchmark")
        t_base, size_base = page_time(base, args.runs)
        t_big, size_big = page_time(big, args.runs)
    print("| inventaire | page (médiane, s) | carte envoyée (Mo) |")
    print("|---|---|---|")
    print(f"| échantillon livré | {t_base:.2f} | {size_base / 1e6:.2f} |")
    print(f"| + {args.rows} panneaux | {t_big:.2f} | {size_big / 1e6:.2f} |")
    print(f"rapport grand / échantillon : ×{t_big / t_base:.1f} ; objectif : < 2 s")


if __name__ == "__main__":
    main()
