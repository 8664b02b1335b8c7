"""The app's shell in French and on a phone: Streamlit's own words, the layout under 640 px.

Streamlit's frontend speaks English (« Select all » in every multiselect, the table
toolbar's « Search », « Expand sidebar »…) and has no locale setting. :data:`FRENCH` lists
each string we met and its French; a small script (``st.html`` with JavaScript, run once
per browser tab) rewrites them in text, ``aria-label`` and ``title`` as they appear.
``tests/test_pages.py`` checks that every English string still exists in the installed
Streamlit (a Streamlit upgrade that renames one fails the test instead of leaving English).

On a phone (≤ 640 px) the CSS below keeps the page's map on its first screen (issue 21:
map tops were at 889–1 653 px of 844): smaller top padding and title, key figures two per
row, and the menu button says « Menu et filtres ». Tapping a page link closes the menu,
as Streamlit's own menu did.
"""

from __future__ import annotations

import json

import streamlit as st

# English (exact text in Streamlit 1.67's bundle) → French
FRENCH = {
    "Select all": "Tout sélectionner",
    "Expand sidebar": "Menu et filtres",
    "Collapse sidebar": "Fermer le menu",
    "Sidebar": "Menu et filtres",
    "Main menu": "Menu principal",
    "Show/hide columns": "Afficher ou masquer des colonnes",
    "Download as CSV": "Télécharger en CSV",
    "Search": "Rechercher",
    "Fullscreen": "Plein écran",
    "Close fullscreen": "Quitter le plein écran",
    "Open": "Ouvrir",
    "Clear all": "Tout effacer",
    "No results": "Aucun résultat",
    "Running...": "Calcul en cours…",
    "Stop": "Arrêter",
    "Page not found": "Page introuvable",
}
# English patterns (JavaScript regular expressions) → French, ``$1`` the captured part
FRENCH_PATTERNS = {
    r"^Select (\d+) matches$": "Sélectionner les $1 résultats",
    r"^Help for (.+)$": "Aide : $1",
    r"^The page that you have requested does not seem to exist\b.*$": (
        "Cette page n'existe pas : voici la page d'accueil de l'atlas."
    ),
}

PHONE_CSS = """
<style>
[data-testid='stExpandSidebarButton']::after {
  content: 'Menu et filtres'; margin-left: .3rem; font-size: .95rem; color: #0e0e0e;
}
[data-testid='stExpandSidebarButton'] { width: auto; padding-right: .4rem; }
/* the table toolbar sits above the table: room for it, so it never covers a heading */
[data-testid='stElementContainer']:has([data-testid='stDataFrame']) { margin-top: 1.75rem; }
/* its CSV is Streamlit's (decimal points, raw column names): each table's own download
   link gives the French CSV, one definition (layers/export.to_csv_bytes) */
[data-testid='stElementToolbar'] button[aria-label='Download as CSV'],
[data-testid='stElementToolbar'] button[aria-label='Télécharger en CSV'] { display: none; }
@media (max-width: 640px) {
  [data-testid='stMainBlockContainer'] {
    padding-top: 3.75rem; padding-left: .75rem; padding-right: .75rem;
  }
  [data-testid='stMainBlockContainer'] h1 { font-size: 1.55rem; padding: .25rem 0 0; }
  [data-testid='stMainBlockContainer'] h2,
  [data-testid='stMainBlockContainer'] h3 { font-size: 1.2rem; }
  [data-testid='stHorizontalBlock']:has([data-testid='stMetric']) {
    flex-wrap: wrap; gap: .25rem .75rem;
  }
  [data-testid='stHorizontalBlock']:has([data-testid='stMetric']) > [data-testid='stColumn'] {
    flex: 1 1 calc(50% - .75rem) !important; min-width: calc(50% - .75rem) !important;
    width: calc(50% - .75rem) !important;
  }
  [class*='st-key-chiffres_courts'] [data-testid='stHorizontalBlock'] > [data-testid='stColumn'] {
    flex: 1 1 calc(33% - .75rem) !important; min-width: calc(33% - .75rem) !important;
    width: calc(33% - .75rem) !important;
  }
  [data-testid='stMetricValue'] { font-size: 1.35rem; }
  [data-testid='stMetricLabel'] p { font-size: .8rem; }
}
</style>
"""

SCRIPT = """
<script>
(function() {
  if (window.__atlasShell) { return; }
  window.__atlasShell = true;
  var words = %(words)s;
  var patterns = Object.entries(%(patterns)s).map(function(p) {
    return [new RegExp(p[0]), p[1]];
  });
  function french(text) {
    if (!text) { return null; }
    var t = text.trim();
    if (Object.prototype.hasOwnProperty.call(words, t)) { return words[t]; }
    for (var i = 0; i < patterns.length; i++) {
      if (patterns[i][0].test(t)) { return t.replace(patterns[i][0], patterns[i][1]); }
    }
    return null;
  }
  function translate(root) {
    var walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    var node;
    while ((node = walker.nextNode())) {
      var fr = french(node.nodeValue);
      if (fr !== null) { node.nodeValue = fr; }
    }
    var named = root.querySelectorAll ? root.querySelectorAll('[aria-label], [title]') : [];
    for (var j = 0; j < named.length; j++) {
      ['aria-label', 'title'].forEach(function(attr) {
        var value = named[j].getAttribute(attr);
        var fr = french(value);
        if (fr !== null) { named[j].setAttribute(attr, fr); }
      });
    }
  }
  var pending = false;
  new MutationObserver(function() {
    if (pending) { return; }
    pending = true;
    requestAnimationFrame(function() { pending = false; translate(document.body); });
  }).observe(document.body, {childList: true, subtree: true, characterData: true,
                             attributes: true, attributeFilter: ['aria-label', 'title']});
  translate(document.body);
  // a map whose Leaflet could not load (no Internet, CDN blocked) stays 0 px high with no
  // word: say so, and how to work offline
  var seen = new WeakMap();
  setInterval(function() {
    var frames = document.querySelectorAll('iframe[title="streamlit_folium.st_folium"]');
    for (var i = 0; i < frames.length; i++) {
      var frame = frames[i];
      if (!seen.has(frame)) { seen.set(frame, Date.now()); continue; }
      if (frame.dataset.atlasChecked || Date.now() - seen.get(frame) < %(wait_ms)d) { continue; }
      var leaflet = null;
      try { leaflet = frame.contentWindow && frame.contentWindow.L; } catch (e) { leaflet = null; }
      if (frame.offsetHeight > 0 || leaflet) { frame.dataset.atlasChecked = '1'; continue; }
      frame.dataset.atlasChecked = '1';
      var note = document.createElement('div');
      note.setAttribute('role', 'alert');
      note.className = 'atlas-carte-absente';
      note.textContent = %(no_map)s;
      note.style.cssText = 'padding:.75rem 1rem;border-radius:.5rem;background:#fdecea;'
        + 'color:#7a1a12;margin:.5rem 0;line-height:1.4';
      frame.parentNode.insertBefore(note, frame);
    }
  }, 1000);
  // a page link tapped in the menu closes the menu on a phone, as Streamlit's own did
  document.addEventListener('click', function(event) {
    var link = event.target.closest && event.target.closest('[data-testid="stSidebar"] a[href]');
    if (!link || !window.matchMedia('(max-width: 767px)').matches) { return; }
    setTimeout(function() {
      var close = document.querySelector('[data-testid="stSidebarCollapseButton"] button');
      if (close) { close.click(); }
    }, 50);
  }, true);
})();
</script>
"""


NO_MAP = (
    "La carte ne peut pas s'afficher : la bibliothèque Leaflet n'a pas pu être chargée "
    "depuis Internet (unpkg.com). Sans Internet, passez en mode hors ligne : une fois, "
    "avec Internet, « .venv/bin/pma-atlas assets fetch », puis lancez « ATLAS_OFFLINE=1 "
    "make run » et choisissez « Aucun fond de carte » (README, « Mode hors ligne »)."
)
NO_MAP_WAIT_MS = 8000  # a map still 0 px high without Leaflet after this long has failed


SHELL_HTML = PHONE_CSS + SCRIPT % {
    "words": json.dumps(FRENCH, ensure_ascii=False),
    "patterns": json.dumps(FRENCH_PATTERNS, ensure_ascii=False),
    "no_map": json.dumps(NO_MAP, ensure_ascii=False),
    "wait_ms": NO_MAP_WAIT_MS,
}


def french_shell() -> None:
    """Install the French words and the phone layout (once per tab; a no-op after)."""
    with st.sidebar:
        st.html(SHELL_HTML, unsafe_allow_javascript=True)
