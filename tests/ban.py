"""A local stand-in for the BAN geocoding API, answering recorded responses (tests only)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlparse

from tests.browser.harness import free_port

# Answers in the BAN API's GeoJSON format (label, score, citycode…), as the API returns them
RECORDED = {
    "place jean jaurès lens": {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [2.8316, 50.4325]},
                "properties": {
                    "label": "Place Jean Jaurès 62300 Lens",
                    "score": 0.93,
                    "citycode": "62498",
                    "type": "street",
                    "city": "Lens",
                },
            }
        ],
    },
    "rue de rivoli paris": {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [2.3469, 48.8590]},
                "properties": {
                    "label": "Rue de Rivoli 75001 Paris",
                    "score": 0.9,
                    "citycode": "75101",
                    "type": "street",
                    "city": "Paris",
                },
            }
        ],
    },
}


class BanHandler(BaseHTTPRequestHandler):
    def do_GET(self):
        q = parse_qs(urlparse(self.path).query).get("q", [""])[0].lower()
        body = RECORDED.get(q, {"type": "FeatureCollection", "features": []})
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@contextmanager
def recorded_ban() -> Iterator[str]:
    """Serve the recorded answers on a free local port; yields the search URL."""
    server = HTTPServer(("127.0.0.1", free_port()), BanHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/search/"
    finally:
        server.shutdown()
