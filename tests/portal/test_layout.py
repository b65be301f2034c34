"""The layout every page shares (issue 13): a skip link first, the main content as its target, and every table of
every template in a box of its own that scrolls sideways on a narrow screen (tests/browser/test_pages_fit.py looks
at the pages themselves at 390 pixels)."""

import re
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
EXTENDS = re.compile(r"""\{%\s*extends\s+["']([^"']+)["']\s*%\}""")


class TablesOutsideAScrollBox(HTMLParser):
    """The <table>s not inside an element of class table-responsive (template tags are only text to this parser)."""

    def __init__(self):
        super().__init__()
        self.open: list[tuple[str, bool]] = []  # (tag, is a scroll box) of every open element
        self.lines: list[int] = []

    def handle_starttag(self, tag, attrs):
        if tag == "table" and not any(is_box for _, is_box in self.open):
            self.lines.append(self.getpos()[0])
        if tag not in {"br", "img", "input", "hr", "meta", "link", "col", "source", "wbr"}:
            self.open.append((tag, "table-responsive" in (dict(attrs).get("class") or "").split()))

    def handle_endtag(self, tag):
        for index in range(len(self.open) - 1, -1, -1):
            if self.open[index][0] == tag:
                del self.open[index:]
                break


def test_every_table_of_every_page_template_scrolls_in_a_box_of_its_own():
    pages = [path for path in TEMPLATES.rglob("*.html") if "emails" not in path.parts]
    found = {}
    for path in pages:
        parser = TablesOutsideAScrollBox()
        parser.feed(path.read_text())
        if parser.lines:
            found[str(path.relative_to(ROOT))] = parser.lines
    assert sum("<table" in path.read_text() for path in pages) >= 10  # the walk really finds the tables
    assert found == {}


def test_the_skip_link_comes_first_and_leads_to_the_main_content():
    base = (TEMPLATES / "base.html").read_text()
    body = base.split("<body", 1)[1].split(">", 1)[1]
    assert body.lstrip().startswith(
        '<a class="skip-link visually-hidden-focusable" href="#main-content">{% translate "Skip to main content" %}</a>'
    )
    assert '<main class="container-xl pb-5" id="main-content" tabindex="-1">' in body
    assert base.count('id="main-content"') == 1
    # Every page is laid out by base.html (directly or through another page), so every page has them.
    pages = [
        path
        for path in TEMPLATES.rglob("*.html")
        if "emails" not in path.parts and path.name != "base.html" and not path.name.startswith("_")
    ]
    assert [str(path.relative_to(ROOT)) for path in pages if layout_of(path) != "base.html"] == []


def layout_of(template: Path) -> str | None:
    """The template at the root of a page's {% extends %} chain (None: the page extends nothing)."""
    seen = set()
    while match := EXTENDS.search(template.read_text()):
        name = match.group(1)
        if name in seen or not (TEMPLATES / name).is_file():
            return name
        seen.add(name)
        template = TEMPLATES / name
    return template.name if seen else None
