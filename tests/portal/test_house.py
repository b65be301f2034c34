"""The shape of the house (STYLE.md): imports run one way, and views reach helpers where their kind lives."""

import ast
from pathlib import Path

from django.urls import URLPattern, URLResolver, get_resolver

from accounts.access_key_pages import SCOPE_URLS

ROOT = Path(__file__).resolve().parents[2]
APPS = ("portal", "accounts", "projects")
# Who may import whom: projects → accounts → portal's kernel; only the shell (settings, root URLs) names the apps.
MAY_IMPORT = {"portal": {"portal"}, "accounts": {"portal", "accounts"}, "projects": {"portal", "accounts", "projects"}}
SHELL = {"portal/settings.py", "portal/urls.py"}


def modules():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path.relative_to(ROOT).as_posix(), ast.parse(path.read_text())


def imported(tree) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_imports_run_one_way():
    wrong = []
    for path, tree in modules():
        if path in SHELL:
            continue
        app = path.split("/")[0]
        for module in imported(tree):
            top = module.split(".")[0]
            if top in APPS and top not in MAY_IMPORT[app]:
                wrong.append(f"{path} imports {module}")
    assert wrong == []


def test_no_view_module_imports_another_and_nothing_outside_views_imports_them():
    wrong = []
    for path, tree in modules():
        is_url_table = path.endswith("urls.py")
        for module in imported(tree):
            if module.split(".")[0] in APPS and ".views" in module and not is_url_table:
                wrong.append(f"{path} imports {module}")
    assert wrong == []


def test_no_function_level_imports():
    """A cycle is a sign that something sits in the wrong app, not a reason to import late. (AppConfig.ready() is
    Django's own place for registering checks and signals by import.)"""
    wrong = []
    for path, tree in modules():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name != "ready":
                for inner in ast.walk(node):
                    if isinstance(inner, (ast.Import, ast.ImportFrom)):
                        wrong.append(f"{path}:{inner.lineno} in {node.name}")
    assert wrong == []


def test_url_names_are_their_views_names_in_kebab_case():
    # One convention (STYLE.md): `accounts:create-access-key` is served by `create_access_key`. A view that would
    # share its name with the service it calls carries `_view`.
    def patterns(resolver, namespace=""):
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                yield from patterns(entry, entry.namespace or namespace)
            elif isinstance(entry, URLPattern) and entry.name and entry.callback.__module__.split(".")[0] in APPS:
                yield namespace, entry

    def expected_view(pattern) -> str:
        name = pattern.name
        if "scope" in pattern.default_args:  # one AccessKey view for each kind of holder: the name says whose key
            name = name.replace(SCOPE_URLS[pattern.default_args["scope"]][1], "", 1)
        return name.replace("-", "_")

    wrong = [
        f"{namespace}:{pattern.name} → {pattern.callback.__module__}.{pattern.callback.__name__}"
        for namespace, pattern in patterns(get_resolver())
        if pattern.callback.__name__.removesuffix("_view") != expected_view(pattern)
    ]
    assert wrong == []
