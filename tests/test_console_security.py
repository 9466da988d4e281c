"""Console security through Flask's client: CSRF, cookie flags, CSP, escaping, and the API's role matrix."""

from __future__ import annotations

import re
from xml.sax.saxutils import escape

import pytest
from sqlalchemy import func, select

from console_client import csrf_from, make_user, post_form, sign_in
from helpers import COLLECT_HEADERS, instance, make_phone, make_project, multipart, publish, xform
from samen.console.web import CONTENT_SECURITY_POLICY
from samen.models import AppUser, Form

SCRIPT = '<script>alert("x")</script>'
ATTRIBUTE = '"onerror=alert(1) x="'
HOSTILE_FORM_MD = f"""
| survey   |                 |         |                          |
|          | type            | name    | label                    |
|          | select_one city | city    | City {SCRIPT}            |
|          | text            | remarks | Remarks {ATTRIBUTE}      |
| choices  |                 |         |                          |
|          | list_name       | name    | label                    |
|          | city            | rotterdam | Rotterdam {ATTRIBUTE}  |
| settings |                 |         |                          |
|          | form_id         | version | form_title               |
|          | hostile         | 1       | Hostile {SCRIPT}         |
"""


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def project_id(services):
    return make_project(services)


def app_user_count(services) -> int:
    with services.database.session() as session:
        return session.scalar(select(func.count()).select_from(AppUser))


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(client, services, project_id):
    make_user(services, "admin@example.org", admin=True)
    sign_in(client, "admin@example.org")
    refused = client.post(f"/projects/{project_id}/app-users", data={"display_name": "Phone"})
    assert refused.status_code == 403
    forged = client.post(f"/projects/{project_id}/app-users", data={"display_name": "Phone", "csrf_token": "guess"})
    assert forged.status_code == 403
    assert app_user_count(services) == 0
    accepted = post_form(client, f"/projects/{project_id}/app-users", {"display_name": "Phone"})
    assert accepted.status_code == 302
    assert app_user_count(services) == 1


def test_a_csrf_token_from_another_browser_is_refused(app, services, project_id):
    make_user(services, "admin@example.org", admin=True)
    attacker, victim = app.test_client(), app.test_client()
    sign_in(attacker, "admin@example.org")
    sign_in(victim, "admin@example.org")
    stolen = csrf_from(attacker.get("/").data)
    response = victim.post(f"/projects/{project_id}/app-users", data={"display_name": "Phone", "csrf_token": stolen})
    assert response.status_code == 403
    assert app_user_count(services) == 0


def test_the_login_form_needs_its_csrf_token_too(client, services):
    make_user(services, "admin@example.org", admin=True)
    response = client.post("/login", data={"email": "admin@example.org", "password": "correct horse battery staple"})
    assert response.status_code == 403


def session_cookie(response) -> str:
    return next(value for value in response.headers.getlist("Set-Cookie") if value.startswith("session="))


def test_session_cookie_is_httponly_and_lax_and_secure_only_over_https(app, services):
    make_user(services, "admin@example.org", admin=True)
    over_http = session_cookie(sign_in(app.test_client(), "admin@example.org"))
    assert "HttpOnly" in over_http and "SameSite=Lax" in over_http and "Secure" not in over_http
    https_client = app.test_client()
    https_client.get("/login", base_url="https://localhost")
    over_https = session_cookie(https_client.post("/login", base_url="https://localhost", data={
        "csrf_token": csrf_from(https_client.get("/login", base_url="https://localhost").data),
        "email": "admin@example.org", "password": "correct horse battery staple"}))
    assert "Secure" in over_https and "HttpOnly" in over_https
    proxied = app.test_client().get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "Secure" in session_cookie(proxied)


def test_the_session_token_is_stored_only_as_a_hash(client, services):
    from samen.models import SessionToken

    make_user(services, "admin@example.org", admin=True)
    sign_in(client, "admin@example.org")
    with client.session_transaction() as cookie:
        token = cookie["console_token"]
    with services.database.session() as session:
        stored = session.scalars(select(SessionToken.token_sha256)).all()
    assert token not in stored
    assert len(stored) == 1 and re.fullmatch(r"[0-9a-f]{64}", stored[0])


def test_every_page_sends_a_csp_without_inline_script_and_has_no_inline_script(client, services, project_id):
    publish(services, project_id, xform(HOSTILE_FORM_MD), encrypt=False)
    make_user(services, "admin@example.org", admin=True)
    sign_in(client, "admin@example.org")
    for url in ("/login", "/", f"/projects/{project_id}", f"/projects/{project_id}/forms/hostile",
                f"/projects/{project_id}/forms/hostile/submissions", f"/projects/{project_id}/app-users",
                f"/projects/{project_id}/audit", f"/projects/{project_id}/forms/hostile/export", "/audit"):
        response = client.get(url, follow_redirects=True)
        assert response.status_code == 200, url
        assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Cache-Control"] == "no-store"
        html = response.get_data(as_text=True)
        assert all("src=" in tag for tag in re.findall(r"<script[^>]*>", html)), url
        assert not re.search(r"<[^>]+\son\w+=", html), url  # no inline event handlers
        assert ' style="' not in html, url  # style-src 'self' would block it anyway
    policy = dict(part.strip().split(" ", 1) for part in CONTENT_SECURITY_POLICY.split(";"))
    assert policy["script-src"] == "'self'" and "unsafe" not in CONTENT_SECURITY_POLICY


def test_form_labels_and_answers_are_escaped_on_every_page(client, services, project_id):
    publish(services, project_id, xform(HOSTILE_FORM_MD), encrypt=False)
    phone = make_phone(services, project_id, ["hostile"])
    xml, instance_id = instance("hostile", "1", {"city": "rotterdam", "remarks": escape(f"{SCRIPT} <img src=x onerror=alert(2)>")})
    assert client.post(f"{phone.prefix}/submission", data=multipart(xml), headers=COLLECT_HEADERS,
                       content_type="multipart/form-data").status_code == 201
    make_user(services, "admin@example.org", admin=True)
    sign_in(client, "admin@example.org")
    pages = [f"/projects/{project_id}", f"/projects/{project_id}/forms/hostile",
             f"/projects/{project_id}/forms/hostile/submissions",
             f"/projects/{project_id}/forms/hostile/submissions/{instance_id}"]
    submission_page = client.get(pages[-1]).get_data(as_text=True)
    assert "Remarks &#34;onerror=alert(1) x=&#34;" in submission_page  # the label, shown and escaped
    assert "&lt;img src=x onerror=alert(2)&gt;" in submission_page  # the answer, shown and escaped
    table = client.get(pages[2]).get_data(as_text=True)
    assert "Rotterdam &#34;onerror=alert(1) x=&#34;" in table  # choice label
    for url in pages:
        html = client.get(url).get_data(as_text=True)
        assert SCRIPT not in html and "<img src=x" not in html and ATTRIBUTE not in html, url
    chart_page = client.get(pages[0]).get_data(as_text=True)
    assert "Rotterdam &#34;onerror=alert(1) x=&#34;" in chart_page  # the per-city chart's label


def test_a_viewer_sees_the_form_but_cannot_publish_it(client, services, project_id):
    from samen.publishing import FormUpload, prepare_definition, save_draft
    from samen.models import Project

    with services.database.session() as session:
        save_draft(session, services.blobs, session.get(Project, project_id),
                   prepare_definition(FormUpload(xform(HOSTILE_FORM_MD), "xml")), None)
    make_user(services, "viewer@example.org", roles={project_id: "viewer"})
    sign_in(client, "viewer@example.org")
    form_page = client.get(f"/projects/{project_id}/forms/hostile")
    assert form_page.status_code == 200
    assert b'id="publish"' not in form_page.data
    response = post_form(client, f"/projects/{project_id}/forms/hostile/publish", from_page=f"/projects/{project_id}/forms/hostile")
    assert response.status_code == 403
    with services.database.session() as session:
        assert session.scalar(select(Form.current_version_id)) is None
    assert post_form(client, f"/projects/{project_id}/app-users", {"display_name": "x"}).status_code == 403
    assert client.get(f"/projects/{project_id}/app-users").status_code == 403


def test_a_manager_of_another_project_sees_nothing_of_this_one(client, services, project_id):
    publish(services, project_id, xform(HOSTILE_FORM_MD), encrypt=False)
    other = make_project(services, "SAMEN Utrecht")
    make_user(services, "manager@example.org", roles={other: "manager"})
    sign_in(client, "manager@example.org")
    listing = client.get("/").get_data(as_text=True)
    assert "SAMEN Utrecht" in listing and "SAMEN Rotterdam" not in listing
    for url in (f"/projects/{project_id}", f"/projects/{project_id}/forms/hostile",
                f"/projects/{project_id}/forms/hostile/submissions", f"/projects/{project_id}/app-users",
                f"/projects/{project_id}/audit", f"/projects/{project_id}/unlock"):
        assert client.get(url).status_code == 404, url
    assert post_form(client, f"/projects/{project_id}/app-users", {"display_name": "x"}).status_code == 404
    assert client.get("/audit").status_code == 403  # the whole log is for administrators
    assert app_user_count(services) == 0


def test_a_collector_cannot_read_submissions(client, services, project_id):
    publish(services, project_id, xform(HOSTILE_FORM_MD), encrypt=False)
    make_user(services, "collector@example.org", roles={project_id: "collector"})
    sign_in(client, "collector@example.org")
    assert client.get(f"/projects/{project_id}/forms/hostile/submissions").status_code == 403
    assert client.get(f"/projects/{project_id}/forms/hostile/export").status_code == 403


def test_pages_need_a_signed_in_user_and_login_redirects_only_within_the_site(client, services, project_id):
    response = client.get(f"/projects/{project_id}")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")
    make_user(services, "admin@example.org", admin=True)
    token = csrf_from(client.get("/login").data)
    evil = client.post("/login", data={"csrf_token": token, "email": "admin@example.org",
                                       "password": "correct horse battery staple", "next": "//evil.example/"})
    assert evil.headers["Location"] == "/"


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(client, services):
    make_user(services, "admin@example.org", admin=True)
    response = sign_in(client, "admin@example.org", "wrong")
    assert response.status_code == 401
    assert "Het e-mailadres of wachtwoord klopt niet." in response.get_data(as_text=True)  # Dutch before signing in
    assert client.get("/").status_code == 302


def test_signing_out_ends_the_session_on_the_server(client, services):
    make_user(services, "admin@example.org", admin=True)
    sign_in(client, "admin@example.org")
    with client.session_transaction() as cookie:
        saved = dict(cookie)
    assert post_form(client, "/logout").status_code == 302
    with client.session_transaction() as cookie:  # replaying the old cookie does not sign back in
        cookie.update(saved)
    assert client.get("/").status_code == 302


def test_without_a_configured_key_every_worker_signs_cookies_with_the_key_samen_init_wrote(tmp_path, sqlite_url, monkeypatch):
    from samen.app import create_app

    monkeypatch.delenv("SAMEN_SECRET_KEY", raising=False)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "secret.key").write_text("0123abcd" * 8 + "\n")
    first, second = (create_app({"data_dir": data_dir, "database_url": sqlite_url}) for _ in range(2))
    assert first.secret_key == second.secret_key == "0123abcd" * 8
    (data_dir / "secret.key").unlink()
    assert create_app({"data_dir": data_dir, "database_url": sqlite_url}).secret_key != first.secret_key
