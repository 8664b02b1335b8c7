from layers.formatting import NBSP, escape, fmt_float, fmt_int, md_escape


def test_french_numbers():
    assert fmt_int(126133) == f"126{NBSP}133"
    assert fmt_int(999.6) == "1" + NBSP + "000" or fmt_int(999.6) == "1000"
    assert fmt_float(1002.4249, 1) == f"1{NBSP}002,4"
    assert fmt_float(0.5, 2) == "0,50"


def test_escape():
    assert escape(None) == ""
    assert escape("<a href='x'>") == "&lt;a href=&#x27;x&#x27;&gt;"


def test_md_escape_neutralises_markdown():
    text = md_escape("[clic](javascript:alert(1)) **gras** <b>")
    assert "[clic]" not in text and "**" not in text and "<b>" not in text
    assert text.replace("\\", "") == "[clic](javascript:alert(1)) **gras** <b>"
