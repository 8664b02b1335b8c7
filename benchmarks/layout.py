"""Where each page's map starts and how much of it the controls hide, phone and desktop.

Starts the app, opens every page in Debian's Chromium at 390 × 844 (phone) and
1280 × 900, and prints the map's top [px] and the share of the map under its legend,
attribution, scale, zoom and layer controls (``tests/browser/test_phone.overlay_share``).
Issue 21 measured map tops of 889–1 653 px on a phone and overlays up to 40 %.

    .venv/bin/python benchmarks/layout.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SIZES = [(390, 844), (1280, 900)]


def main() -> None:
    from playwright.sync_api import sync_playwright

    from tests.browser.harness import (
        CHROMIUM,
        CHROMIUM_ARGS,
        MAP_FRAME,
        OfflineRouter,
        streamlit_server,
        wait_map_idle,
    )
    from tests.browser.test_phone import PAGES, overlay_share

    with streamlit_server() as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for width, height in SIZES:
            phone = width < 500
            context = browser.new_context(
                viewport={"width": width, "height": height},
                locale="fr-FR",
                is_mobile=phone,
                has_touch=phone,
            )
            for name, path in PAGES.items():
                page = context.new_page()
                page.route("**/*", OfflineRouter())
                page.goto(f"{url}/{path}")
                page.locator(MAP_FRAME).first.wait_for(timeout=60_000)
                wait_map_idle(page)
                box = page.locator(MAP_FRAME).first.bounding_box()
                frame = page.locator(MAP_FRAME).first.element_handle().content_frame()
                print(
                    f"{width} × {height}  {name:<13} haut de la carte {box['y']:5.0f} px  "
                    f"contrôles {overlay_share(frame):5.1%} de la carte"
                )
                page.close()
            context.close()


if __name__ == "__main__":
    main()
