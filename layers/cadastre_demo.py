"""The demo store: the fictional 2 × 2 km territory computed once, kept, updated."""

from __future__ import annotations

from pathlib import Path

DEMO_KM = 2  # the demo store: 2 × 2 LiDAR tiles (4 km²), a minute to compute


def prepare_demo_store(
    geodata_dir: Path, progress: bool = False, cache_dir: Path | None = None
) -> bool:
    """Compute the fictional demo territory's store when missing or stale; True if built.

    ``cache_dir``: where the sky tables are kept (:attr:`Settings.cache_dir`).

    Inputs in the IGN/BAN formats go to ``geodata/cadastre-demo-entrees`` (written once),
    the store to ``geodata/cadastre-demo``. The build is incremental: a later call only
    checks checksums (seconds) and recomputes what changed, e.g. after an edit of the
    ``solaire`` assumptions.
    """
    from layers.assumptions import load_assumptions
    from layers.demo.territory import write_territory
    from layers.settings import DEFAULT_WEATHER, DEMO_STORE
    from layers.solar.build import BuildJob, BuildOptions, build
    from layers.territory import load_territory

    geodata_dir = Path(geodata_dir)
    inputs, store = geodata_dir / f"{DEMO_STORE}-entrees", geodata_dir / DEMO_STORE
    communes = load_territory(geodata_dir).communes
    if not (inputs / "LISEZMOI.json").is_file():
        write_territory(inputs, DEMO_KM, communes=communes)
    report = build(
        BuildJob(
            lidar_dir=inputs / "lidar",
            buildings=inputs / "batiment.gpkg",
            weather=geodata_dir / DEFAULT_WEATHER,
            out=store,
            rules=load_assumptions(geodata_dir).roof_rules(),
            panels=load_assumptions(geodata_dir).panel_rules(),
            communes=communes,
            addresses=inputs / "adresses-62.csv",
            # two app processes (or test workers) starting at once: one builds
            options=BuildOptions(progress=progress, wait=True, cache_dir=cache_dir, workers=1),
        )
    )
    return report.assembled  # True whenever a tile was computed, too
