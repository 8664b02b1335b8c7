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


def test_tables_show_numbers_the_french_way_and_keep_them_sortable():
    """Issue 21: tables showed 9.96, 1502.1, 17966."""
    import pandas as pd

    from layers.formatting import STYLED_CELLS_MAX, fmt_cell, french_table

    assert [fmt_cell(v) for v in (9.96, 1502.1, 17966, 0.07, None)] == [
        "9,96",
        f"1{NBSP}502,1",
        f"17{NBSP}966",
        "0,07",
        "",
    ]
    frame = pd.DataFrame({"Commune": ["A", "B"], "kWc": [1502.1, 9.96], "% posés": [40.0, 5.5]})
    styled = french_table(frame, skip=("% posés",))
    html = styled.to_html()
    assert f"1{NBSP}502,1" in html and "9,96" in html and "1502.1" not in html
    assert "5,5" not in html  # the progress column is left alone (drawn as a bar)
    assert styled.data["kWc"].tolist() == [1502.1, 9.96]  # the values sort as numbers
    big = pd.DataFrame({"x": range(STYLED_CELLS_MAX + 1)}, dtype=float)
    assert french_table(big) is big  # too large to style cell by cell: shown as is


def test_charts_speak_french_numbers_and_months():
    """Issue 21: chart axes said « 100,000 » and months in English."""
    import pandas as pd

    from layers import charts

    spec = charts.bar(pd.DataFrame({"a": ["x"], "b": [123456.5]}), "a", "b", "t").to_dict()
    locale = spec["config"]["locale"]
    assert locale["number"]["decimal"] == "," and locale["number"]["thousands"] == NBSP
    assert locale["time"]["months"][0] == "janvier" and locale["time"]["shortMonths"][7] == "août"
    line = charts.line(
        pd.DataFrame({"mois": pd.to_datetime(["2025-01-01"]), "n": [3]}), "mois", "n", "t"
    )
    assert line.to_dict()["config"]["locale"] == locale
