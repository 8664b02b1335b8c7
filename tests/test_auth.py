"""Editor authentication: hashes, lockout, equal timing, secrets lines, OIDC allow-list."""

from __future__ import annotations

import tomllib

import pytest

from layers.auth import (
    ITERATIONS,
    LoginGuard,
    editor_accounts,
    hash_password,
    password_problem,
    secrets_line,
    verify_password,
)
from layers.cli import main

ACCOUNTS = {"alice": hash_password("mot-de-passe-solide")}


def test_lockout_after_five_failures_then_release():
    guard = LoginGuard(max_failures=5, lockout_s=900)
    for i in range(5):
        assert guard.attempt(ACCOUNTS, "alice", "faux", now=float(i)) == (
            False,
            "Identifiant ou mot de passe incorrect.",
        )
    ok, message = guard.attempt(ACCOUNTS, "alice", "mot-de-passe-solide", now=10.0)
    assert not ok and "Trop d'essais" in message
    ok, _ = guard.attempt(ACCOUNTS, "ALICE ", "mot-de-passe-solide", now=11.0)
    assert not ok  # the same name written differently is the same lock
    assert guard.attempt(ACCOUNTS, "alice", "mot-de-passe-solide", now=4.0 + 901) == (True, None)


def test_a_success_resets_the_count():
    guard = LoginGuard(max_failures=3)
    guard.attempt(ACCOUNTS, "alice", "faux", now=0.0)
    guard.attempt(ACCOUNTS, "alice", "faux", now=1.0)
    assert guard.attempt(ACCOUNTS, "alice", "mot-de-passe-solide", now=2.0)[0]
    guard.attempt(ACCOUNTS, "alice", "faux", now=3.0)
    guard.attempt(ACCOUNTS, "alice", "faux", now=4.0)
    assert guard.attempt(ACCOUNTS, "alice", "mot-de-passe-solide", now=5.0)[0]


def test_unknown_and_known_names_do_the_same_work(monkeypatch):
    """Medium: 45 ms vs 0 ms told which names exist; now both run one PBKDF2 of the same
    cost (counted, not timed: the machines are noisy)."""
    import hashlib

    calls = []
    real = hashlib.pbkdf2_hmac

    def counted(name, password, salt, iterations, *args):
        calls.append(iterations)
        return real(name, password, salt, iterations, *args)

    monkeypatch.setattr(hashlib, "pbkdf2_hmac", counted)
    guard = LoginGuard(max_failures=10_000)
    guard.attempt(ACCOUNTS, "alice", "faux")
    known = list(calls)
    calls.clear()
    guard.attempt(ACCOUNTS, "personne", "faux")
    assert known == calls == [ITERATIONS]


def test_password_rules():
    assert password_problem("court") is not None
    assert password_problem("aaaaaaaaaaaaaaaa") is not None  # long but repetitive
    assert password_problem("cheval-agrafe-correct") is None


@pytest.mark.parametrize("name", ["alice", "bob smith", 'q"uote', "élise", "a\\b"])
def test_secrets_line_is_valid_toml(name):
    stored = hash_password("cheval-agrafe-correct")
    doc = tomllib.loads("[editeurs]\n" + secrets_line(name, stored))
    assert doc["editeurs"] == {name: stored}
    accounts, problem = editor_accounts(doc["editeurs"])
    assert problem is None and verify_password("cheval-agrafe-correct", accounts[name])


@pytest.mark.parametrize("name", ["", " alice", "a\nb", "x" * 65])
def test_secrets_line_refuses_unusable_names(name):
    with pytest.raises(ValueError):
        secrets_line(name, "h")


def test_hash_password_cli(monkeypatch, capsys):
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "cheval-agrafe-correct")
    assert main(["signs", "hash-password", "bob smith"]) == 0
    doc = tomllib.loads(capsys.readouterr().out)
    assert verify_password("cheval-agrafe-correct", doc["editeurs"]["bob smith"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "12345678")
    assert main(["signs", "hash-password", "bob"]) == 1
    assert "trop court" in capsys.readouterr().err


def test_editor_accounts_tolerates_bad_configuration():
    assert editor_accounts("alice") == ({}, editor_accounts("alice")[1])
    assert editor_accounts("alice")[1] is not None
    accounts, problem = editor_accounts({"alice": ACCOUNTS["alice"], "bob": 3})
    assert list(accounts) == ["alice"] and "bob" in problem
