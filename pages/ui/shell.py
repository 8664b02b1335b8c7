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
    # chart toolbars (Vega-Lite)
    "Show data": "Afficher les données",
    "Download as PNG": "Télécharger en PNG",
    "Copy Vega-Lite spec": "Copier la spécification Vega-Lite",
    "Copied!": "Copié !",
    # what screen readers announce (aria-label), placeholders
    "Choose an option": "Choisir une option",
    "Choose options": "Choisir des options",
    "Choose date": "Choisir une date",
    "Clear date": "Effacer la date",
    "Use arrow keys to navigate dates. Enter to select. Escape to close.": (
        "Flèches : changer de date. Entrée : choisir. Échap : fermer."
    ),
    "Show password": "Afficher le mot de passe",
    "Hide password": "Masquer le mot de passe",
    "Link to heading": "Lien vers ce titre",
    "Close": "Fermer",
}
# a date field's segments as screen readers announce them (« day, Date de l'étape »): the
# words come from the browser (Intl.DisplayNames, « dateTimeField ») in Streamlit's locale
DATE_SEGMENT_PATTERNS = {
    r"^day, (.+)$": "jour, $1",
    r"^month, (.+)$": "mois, $1",
    r"^year, (.+)$": "année, $1",
}
# the empty segments of a date field (day, month, year), Streamlit's English placeholders
DATE_PLACEHOLDERS = {"dd": "jj", "mm": "mm", "yyyy": "aaaa"}
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
  var dateWords = %(date_words)s;
  function translate(root) {
    var walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    var node;
    while ((node = walker.nextNode())) {
      var fr = french(node.nodeValue);
      if (fr !== null) { node.nodeValue = fr; }
    }
    var empty = root.querySelectorAll('[role="spinbutton"][data-placeholder="true"]');
    for (var d = 0; d < empty.length; d++) {
      // the text node itself (React keeps it and writes the digits typed into it)
      var texts = document.createTreeWalker(empty[d], NodeFilter.SHOW_TEXT), t;
      while ((t = texts.nextNode())) {
        var word = dateWords[t.nodeValue.trim()];
        if (word && t.nodeValue !== word) { t.nodeValue = word; }
      }
    }
    var named = root.querySelectorAll('[aria-label], [title], [placeholder]');
    for (var j = 0; j < named.length; j++) {
      ['aria-label', 'title', 'placeholder'].forEach(function(attr) {
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
                             attributes: true,
                             attributeFilter: ['aria-label', 'title', 'placeholder']});
  translate(document.body);
  // a map whose Leaflet could not load (no Internet, CDN blocked, files missing) stays
  // 0 px high with no word: say so. Decided from what failed — a script of the map's frame
  // that fired its error event, or, for a script already there when the frame was first
  // watched, a fetch of it that fails — never from a delay: a slow machine only waits. The
  // note goes as soon as the map is drawn.
  function probe(src, watch) {
    fetch(src, {mode: 'no-cors'}).then(function(r) {
      if (r.type !== 'opaque' && !r.ok) { watch.failed = src; }
    }).catch(function() { watch.failed = src; });
  }
  function watchFrame(frame) {
    var win = null;
    try { win = frame.contentWindow; } catch (e) { return null; }
    if (!win || !win.document || win.location.href === 'about:blank') { return null; }
    if (!win.__atlasWatch) {
      var watch = {failed: null};
      win.__atlasWatch = watch;
      win.addEventListener('error', function(event) {
        var t = event.target;
        if (t && t.tagName === 'SCRIPT' && t.src) { watch.failed = t.src; }
      }, true);
      var earlier = win.document.querySelectorAll('script[src]');
      for (var k = 0; k < earlier.length; k++) { probe(earlier[k].src, watch); }
    }
    return win.__atlasWatch;
  }
  function checkMaps() {
    var frames = document.querySelectorAll('iframe[title="streamlit_folium.st_folium"]');
    for (var i = 0; i < frames.length; i++) {
      var frame = frames[i];
      var note = frame.previousElementSibling;
      note = note && note.classList.contains('atlas-carte-absente') ? note : null;
      if (frame.offsetHeight > 0) {
        if (note) { note.remove(); }
        frame.dataset.atlasChecked = '1';
        continue;
      }
      var watch = watchFrame(frame);
      if (!watch || !watch.failed || note) { continue; }
      frame.dataset.atlasChecked = '1';
      note = document.createElement('div');
      note.setAttribute('role', 'alert');
      note.className = 'atlas-carte-absente';
      note.textContent = %(no_map)s;
      note.style.cssText = 'padding:.75rem 1rem;border-radius:.5rem;background:#fdecea;'
        + 'color:#7a1a12;margin:.5rem 0;line-height:1.4';
      frame.parentNode.insertBefore(note, frame);
    }
  }
  setInterval(checkMaps, 200);
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
# offline, Leaflet comes from the app itself: the fix is on the server, never the Internet
NO_MAP_OFFLINE = (
    "La carte ne peut pas s'afficher : la bibliothèque Leaflet n'a pas pu être chargée "
    "depuis le serveur de l'atlas (mode hors ligne, dossier static/vendor). Sur ce serveur, "
    "lancez « .venv/bin/pma-atlas assets fetch » puis rechargez la page (README, « Mode "
    "hors ligne »)."
)


def _shell_html(no_map: str) -> str:
    return PHONE_CSS + SCRIPT % {
        "words": json.dumps(FRENCH, ensure_ascii=False),
        "patterns": json.dumps(FRENCH_PATTERNS | DATE_SEGMENT_PATTERNS, ensure_ascii=False),
        "date_words": json.dumps(DATE_PLACEHOLDERS),
        "no_map": json.dumps(no_map, ensure_ascii=False),
    }


SHELL_HTML = {False: _shell_html(NO_MAP), True: _shell_html(NO_MAP_OFFLINE)}  # by offline


def french_shell(offline: bool) -> None:
    """Install the French words and the phone layout (once per tab; a no-op after).

    ``offline``: the app serves Leaflet itself (``ATLAS_OFFLINE``); a map that cannot load
    then points to the server's copy, never to the Internet.
    """
    with st.sidebar:
        st.html(SHELL_HTML[offline], unsafe_allow_javascript=True)
