"""The words on every page are the product's, not its source documents' (issue 13): the two documents the portal was
built from ("the seed", "seed 002", its "p4_…" project member) appear nowhere a person reads them: templates, the
strings of the code (labels, help texts, messages, errors, API and command answers), the scripts, rendered pages.
Comments and docstrings may keep referring to them."""

import ast
import html
import re
from pathlib import Path

from django.test import Client
from django.urls import reverse

from accounts.actors import operator_actor
from accounts.services.access_keys import issue_access_key
from accounts.services.packets import instructions_packet
from projects.services import add_member, create_project
from tests.conftest import signed_in
from tests.portal.test_visible_labels import owner_pages

ROOT = Path(__file__).resolve().parents[2]
SOURCE_WORDS = re.compile(r"\bthe seeds?\b|\bseeds? ?0\d\d\b|\bp4_|\bsource documents?\b", re.IGNORECASE)
APPS = ("accounts", "portal", "projects")


def source_words_in(text: str) -> list[str]:
    return [match.group(0) for match in SOURCE_WORDS.finditer(text)]


def without_template_comments(source: str) -> str:
    source = re.sub(r"\{#.*?#\}", "", source, flags=re.S)
    return re.sub(r"\{%\s*comment\s*%\}.*?\{%\s*endcomment\s*%\}", "", source, flags=re.S)


def strings_that_are_not_docstrings(source: str) -> list[tuple[int, str]]:
    tree = ast.parse(source)
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


def test_the_pattern_finds_the_source_documents_words():
    assert source_words_in("the seed's table; Seed 002; the “p4_…” member; seed002") == [
        "the seed",
        "Seed 002",
        "p4_",
        "seed002",
    ]
    assert source_words_in("a TOTP seed, mfa.seed_shown, seeded, p44_x") == []


def test_no_template_uses_the_source_documents_words():
    templates = [path for app in ("", *APPS) for path in (ROOT / app / "templates").rglob("*") if path.is_file()]
    assert len(templates) > 40  # the walk really finds the templates
    found = {
        str(path.relative_to(ROOT)): words
        for path in templates
        if (words := source_words_in(without_template_comments(path.read_text())))
    }
    assert found == {}


def test_no_string_of_the_code_uses_the_source_documents_words():
    modules = [path for app in APPS for path in (ROOT / app).rglob("*.py") if "migrations" not in path.parts]
    assert len(modules) > 40
    found = {
        f"{path.relative_to(ROOT)}:{line}": words
        for path in modules
        for line, text in strings_that_are_not_docstrings(path.read_text())
        if (words := source_words_in(text))
    }
    assert found == {}


def test_no_script_or_style_uses_the_source_documents_words():
    files = [path for path in (ROOT / "static").rglob("*") if path.suffix in (".js", ".css")]
    assert files
    found = {
        str(path.relative_to(ROOT)): words
        for path in files
        # (comments removed: they may say where a rule comes from)
        if (words := source_words_in(re.sub(r"/\*.*?\*/|^\s*//.*$", "", path.read_text(), flags=re.S | re.M)))
    }
    assert found == {}


def page_text(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code in (200, 404), (url, response.status_code)
    return html.unescape(response.content.decode())


def test_no_rendered_page_uses_the_source_documents_words(owner, ram_user):
    operator = operator_actor(owner.account)
    projectless = page_text(signed_in(owner), reverse("projects:project-list"))  # refused: no AccessKey yet
    assert "The AccessKey pair is not enabled for the Alibaba Cloud account" in projectless
    issue_access_key(actor=operator, holder=owner.user, otp_code=None)
    project = create_project(actor=operator, name="words_project")
    add_member(actor=operator, project=project, ram_user=ram_user.ram_user, roles=["role_project_dev"])
    instructions_packet(actor=operator, ram_user=ram_user.ram_user)
    pk = ram_user.ram_user.pk
    checked = reverse("projects:check-permissions") + f"?user=alice&project={project.pk}"
    urls = [*owner_pages(pk, project.pk), checked, "/no-such-page/"]
    pages = {url: page_text(signed_in(owner), url) for url in urls}
    pages["my-credentials"] = page_text(signed_in(ram_user), reverse("accounts:my-credentials"))
    pages["sign-in"] = page_text(Client(), reverse("accounts:owner-sign-in"))
    pages["ram-sign-in"] = page_text(Client(), reverse("accounts:ram-sign-in", args=[owner.account.default_domain]))
    assert "Table creation" in pages[reverse("projects:permissions")]  # the matrix is rendered
    assert "Allowed" in pages[checked]
    found = {url: words for url, text in pages.items() if (words := source_words_in(text))}
    assert found == {}
