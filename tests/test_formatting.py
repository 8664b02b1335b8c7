from layers.formatting import NBSP, escape, fmt_float, fmt_int, md_escape


def test_french_numbers():
    assert fmt_int(126133) == f"126{NBSP}133"
    assert fmt_int(999.6) == "1" + NBSP + "000"  # rounded first, then grouped
    assert fmt_float(1002.4249, 1) == f"1{NBSP}002,4"
    assert fmt_float(0.5, 2) == "0,50"


def test_escape():
    assert escape(None) == ""
    assert escape("<a href='x'>") == "&lt;a href=&#x27;x&#x27;&gt;"


def test_md_escape_neutralises_markdown():
    text = md_escape("[clic](javascript:alert(1)) **gras** <b>")
    assert "[clic]" not in text and "**" not in text and "<b>" not in text
    assert text.replace("\\", "") == "[clic](javascript:alert(1)) **gras** <b>"


def test_non_finite_numbers_are_shown_as_missing():
    for bad in (float("inf"), float("nan"), None, "abc", 1e400):
        assert fmt_int(bad) == "—" and fmt_float(bad) == "—"


def test_csv_neutralises_formulas_in_every_text_cell():
    """Medium: =, +, -, @ at the start of a text cell would run in a spreadsheet."""
    import io

    import pandas as pd

    from layers.export import to_csv_bytes

    table = pd.DataFrame(
        {
            "nom": ['=HYPERLINK("http://x","clic")', "+33 1", "-2+3", "@SUM(A1)", "Parc"],
            "solde": [-5.0, 1.5, 2.0, 3.0, 4.0],
        }
    )
    back = pd.read_csv(
        io.BytesIO(to_csv_bytes(table)), sep=";", decimal=",", encoding="utf-8-sig", dtype=str
    )
    assert list(back["nom"]) == [
        '\'=HYPERLINK("http://x","clic")',
        "'+33 1",
        "'-2+3",
        "'@SUM(A1)",
        "Parc",
    ]
    assert back["solde"].iloc[0] == "-5,0"  # numbers stay numbers


def test_grouped_notices():
    from layers.formatting import group_notices

    assert group_notices(["a", "b"]) == ["a", "b"]
    many = group_notices([f"valeur {i}" for i in range(3000)])
    assert len(many) == 1 and many[0].startswith("3000 valeurs")


def test_public_message_cuts_server_paths():
    from layers.formatting import public_message

    text = public_message("Couche corrompue : /srv/atlas/geodata/territoire.gpkg (illisible)")
    assert text == "Couche corrompue : territoire.gpkg (illisible)"
    assert public_message("taux 1/2 et a/b") == "taux 1/2 et a/b"
