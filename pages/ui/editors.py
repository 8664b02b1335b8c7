"""Who may edit: password editors (with a lockout) or OIDC accounts on an allow-list."""

from __future__ import annotations

import secrets as _random

import streamlit as st

from layers.auth import LoginGuard, allowed_oidc_editor, editor_accounts
from layers.downloads import DOWNLOADS, EDITOR_COOKIE
from layers.formatting import md_escape
from pages.ui.loaders import LOG

K_FILES = "_editeur_fichiers"  # the editor session's secret for its files (see file_session)


def file_session() -> str:
    """The logged-in editor session's secret: its files need it (``download_link``).

    Made at the first call of a session and put in the editor's browser as the cookie
    ``EDITOR_COOKIE`` (SameSite=Strict): the editor's links work in that browser only.
    """
    secret = st.session_state.get(K_FILES)
    if not secret:
        secret = st.session_state[K_FILES] = _random.token_urlsafe(24)
    st.html(
        f"<script>document.cookie = '{EDITOR_COOKIE}={secret}; path=/; SameSite=Strict';</script>",
        unsafe_allow_javascript=True,
    )
    return secret


def _end_file_session() -> None:
    """At logout: the session's file links stop working, even in the editor's browser."""
    secret = st.session_state.pop(K_FILES, None)
    if secret:
        DOWNLOADS.revoke(secret)


def _logout_oidc() -> None:
    _end_file_session()
    st.logout()


def _secrets() -> dict:
    from streamlit.errors import StreamlitSecretNotFoundError

    try:
        return {k: st.secrets[k] for k in st.secrets}
    except (FileNotFoundError, StreamlitSecretNotFoundError):
        return {}


@st.cache_resource
def login_guard() -> LoginGuard:
    """One guard per server process, shared by every session (a new tab does not reset it)."""
    return LoginGuard()


def editor_session() -> str | None:
    """The logged-in editor's name, with the login/logout controls in the sidebar.

    OIDC through ``st.login`` when an ``[auth]`` section is configured — then only the
    accounts listed in ``editeurs_autorises`` may edit; otherwise editors and their
    password hashes in ``[editeurs]`` of ``secrets.toml`` (``pma-atlas signs
    hash-password NAME``), with a lockout after repeated failures. Readers never see
    edit controls; a malformed configuration disables editing instead of breaking the page.
    """
    secrets = _secrets()
    with st.sidebar:
        st.markdown("**Édition**")
        if "auth" in secrets:
            if getattr(st.user, "is_logged_in", False):
                identity = str(st.user.get("email") or "")
                st.caption(f"Connecté : {md_escape(st.user.get('name') or identity)}")
                st.button("Se déconnecter", on_click=_logout_oidc)
                if allowed_oidc_editor(identity, secrets.get("editeurs_autorises")):
                    return identity
                st.warning(
                    "Ce compte n'est pas autorisé à modifier l'inventaire : demandez à "
                    "l'administrateur de l'ajouter à la liste des éditeurs."
                )
                return None
            st.button("Se connecter (éditeurs)", on_click=st.login)
            return None
        editors, problem = editor_accounts(secrets.get("editeurs"))
        if problem:
            LOG.warning("secrets.toml : %s", problem)
        if not editors:
            st.caption(
                "Édition désactivée : aucun éditeur n'est configuré"
                + (" (configuration à corriger, voir le journal du serveur)." if problem else ".")
            )
            return None
        user = st.session_state.get("_editeur")
        if user in editors:
            st.caption(f"Connecté en éditeur : {md_escape(user)}")
            if st.button("Se déconnecter"):
                del st.session_state["_editeur"]
                _end_file_session()
                st.rerun()
            return user
        st.caption(md_escape(login_guard().rule()))
        with st.form("connexion_editeur"):
            name = st.text_input("Identifiant", max_chars=64)
            password = st.text_input("Mot de passe", type="password", max_chars=256)
            if st.form_submit_button("Se connecter"):
                ok, message = login_guard().attempt(editors, name, password)
                if ok:
                    st.session_state["_editeur"] = name
                    st.rerun()
                st.error(message)
    return None
