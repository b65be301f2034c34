"""Pages that fit (issue 13): on a 390-pixel-wide phone every table scrolls inside its own box and the page never
scrolls sideways; "Skip to main content" is the first stop of the Tab key on every page; every button's text meets
WCAG AA contrast (4.5:1) in the colours the browser actually computes from the CSS the portal serves."""

import json
import re
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from accounts.actors import operator_actor
from accounts.services.access_keys import issue_access_key, set_access_key_status
from accounts.services.credential_report import generate_credential_report
from accounts.services.groups import add_to_group, attach_group_policy, create_group
from accounts.services.packets import instructions_packet
from accounts.services.ram_users import NewRamUser, create_ram_users
from projects.services import add_member, create_project, grant_group_roles
from tests.browser.conftest import ARTIFACTS, Browsing, sign_in_owner
from tests.conftest import RAM_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]

ROOT = Path(__file__).resolve().parents[2]
PHONE = {"width": 390, "height": 844}
AA_TEXT = 4.5
# A valid user name of the longest length (64) and a display name of 128 characters: they must not widen the page.
LONG_NAME = ("data-platform.onboarding_" * 3)[:64]
LONG_DISPLAY_NAME = ("Wang Xiaoming of the Data Platform Onboarding Team " * 3)[:128]


def onboarded_account(owner, alice):
    """Users (one with the longest names), packets, a project with members, and AccessKeys in both states."""
    operator = operator_actor(owner.account)
    issue_access_key(actor=operator, holder=owner.user, otp_code=None)  # projects need the account's key
    [long_named] = create_ram_users(
        actor=owner.actor,
        new_users=[NewRamUser(name=LONG_NAME, display_name=LONG_DISPLAY_NAME, email="wang@people.example")],
    )
    project = create_project(actor=operator, name="sales_dw", description="Sales data warehouse")
    for ram_user in (alice.ram_user, long_named.ram_user):
        add_member(actor=operator, project=project, ram_user=ram_user, roles=["role_project_dev", "role_project_pe"])
        instructions_packet(actor=operator, ram_user=ram_user)
    issue_access_key(actor=operator, holder=alice.user, otp_code=None)
    inactive = issue_access_key(actor=operator, holder=alice.user, otp_code=None).access_key
    set_access_key_status(actor=operator, access_key=inactive, is_active=False)
    return project


def page_width(page: Page) -> dict[str, int]:
    return page.evaluate(
        "({scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,"
        " bodyScrollWidth: document.body.scrollWidth})"
    )


def wider_than_the_screen(page: Page) -> list[str]:
    """Elements past the right edge of the window that no scroll box holds in (what makes a page scroll sideways):
    outside any box that clips, or positioned absolutely, which escapes a box that is not their containing block."""
    return page.evaluate(
        """[...document.querySelectorAll('body *')].filter(el => {
             if (el.getBoundingClientRect().right <= window.innerWidth + 0.5) return false;
             if (['absolute', 'fixed'].includes(getComputedStyle(el).position)) return true;
             for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
               if (getComputedStyle(up).overflowX !== 'visible') return false;
             }
             return true;
           }).slice(0, 10)
             .map(el => `${Math.round(el.getBoundingClientRect().right)}px: ${el.outerHTML.slice(0, 160)}`)"""
    )


def tables_outside_a_scroll_box(page: Page) -> list[str]:
    """The tables of the main content that are not inside Bootstrap's .table-responsive (their own scroll box)."""
    return page.evaluate(
        "[...document.querySelectorAll('main table')].filter(t => !t.closest('.table-responsive'))"
        ".map(t => t.outerHTML.slice(0, 120))"
    )


def assert_fits(browsing: Browsing, step: str) -> dict[str, int]:
    width = page_width(browsing.page)
    browsing.snap(step)
    assert width["scrollWidth"] <= width["innerWidth"] == PHONE["width"], (
        step,
        width,
        wider_than_the_screen(browsing.page),
    )
    assert width["bodyScrollWidth"] <= width["innerWidth"], (step, width)
    assert tables_outside_a_scroll_box(browsing.page) == [], step
    return width


# The page's focusable elements in the order of the Tab key: rendered, enabled, not taken out with tabindex=-1.
TAB_ORDER_JS = """
[...document.querySelectorAll(
  'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex], [contenteditable=true]'
)].filter(el => el.tabIndex >= 0 && !el.disabled && el.getClientRects().length > 0)
 .map(el => ({tag: el.tagName.toLowerCase(), text: el.textContent.trim().slice(0, 40), tabIndex: el.tabIndex}))
"""


def assert_skip_link_comes_first(page: Page) -> None:
    """ "Skip to main content" is the first stop of the Tab key; it shows when focused and leads into the content."""
    order = page.evaluate(TAB_ORDER_JS)
    assert order[0] == {"tag": "a", "text": "Skip to main content", "tabIndex": 0}, order[:3]
    assert all(stop["tabIndex"] == 0 for stop in order), "a positive tabindex would come before the skip link"
    if not page.evaluate("document.activeElement === document.body"):
        # A page that puts the cursor in its one-time-code field itself: the person starts in the main content.
        assert page.evaluate("!!document.activeElement.closest('main')")
        return
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "(() => { const el = document.activeElement, box = el.getBoundingClientRect();"
        " return {text: el.textContent.trim(), href: el.getAttribute('href'), visible: box.width > 1 && box.height > 1"
        " && box.top >= 0 && box.left >= 0 && box.right <= window.innerWidth}; })()"
    )
    assert focused == {"text": "Skip to main content", "href": "#main-content", "visible": True}, focused
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main-content"
    assert page.evaluate("document.activeElement.tagName") == "MAIN"
    page.keyboard.press("Tab")  # the next stop is inside the main content, past the navigation
    assert page.evaluate("!!document.activeElement.closest('main')")


def test_users_packets_and_a_projects_members_fit_a_390_pixel_screen(browsing, owner, ram_user):
    page = browsing.page
    project = onboarded_account(owner, ram_user)
    page.set_viewport_size(PHONE)
    browsing.open(reverse("accounts:owner-sign-in"))
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    browsing.snap("skip-link-shown-on-the-first-tab")
    page.reload()
    assert_skip_link_comes_first(page)
    sign_in_owner(browsing, owner)

    widths = {}
    for step, url, table in [
        ("users", reverse("accounts:user-list"), "main table"),
        ("packets", reverse("accounts:packet-list"), "main table"),
        ("project-members", reverse("projects:project-detail", args=[project.pk]), "[data-testid=member-table]"),
    ]:
        browsing.open(url)
        expect(page.locator(table).first).to_contain_text(LONG_NAME[:20])
        widths[step] = assert_fits(browsing, step)
        assert_skip_link_comes_first(page)
    assert all(width["scrollWidth"] == PHONE["width"] for width in widths.values()), widths

    # The members table is wider than the phone: it scrolls inside its own box, and the page does not move.
    box = page.locator(".table-responsive:has([data-testid=member-table])")
    overflow = box.evaluate("el => ({scroll: el.scrollWidth, client: el.clientWidth})")
    assert overflow["scroll"] > overflow["client"], overflow
    box.evaluate("el => el.scrollLeft = el.scrollWidth")
    assert page.evaluate("window.scrollX") == 0
    assert page_width(page)["scrollWidth"] == PHONE["width"]
    browsing.snap("project-members-scrolled-inside-its-box")


def test_every_page_with_a_table_fits_a_390_pixel_screen(browsing, owner, ram_user):
    page = browsing.page
    project = onboarded_account(owner, ram_user)
    generate_credential_report(actor=owner.actor)  # its 16 columns scroll inside their box
    group = create_group(
        actor=owner.actor, name="data-engineering-warehouse-team", display_name="数据仓库工程组 Data warehouse"
    )
    add_to_group(actor=owner.actor, group=group, ram_user=ram_user.ram_user)
    attach_group_policy(actor=owner.actor, group=group, policy_name="AliyunDataWorksFullAccess")
    grant_group_roles(actor=owner.actor, project=project, group=group, roles=["role_project_dev"])
    page.set_viewport_size(PHONE)
    sign_in_owner(browsing, owner)
    pages = {
        "overview": reverse("accounts:overview"),
        "user-detail-with-access-keys": reverse("accounts:user-detail", args=[ram_user.ram_user.pk]),
        "policies": reverse("accounts:policy-list"),
        "groups": reverse("accounts:group-list"),
        "group-detail": reverse("accounts:group-detail", args=[group.pk]),
        "audit-trail": reverse("accounts:audit-trail"),
        "credential-report": reverse("accounts:credential-report"),
        "project-list": reverse("projects:project-list"),
        "permissions": reverse("projects:permissions"),
        "check-permissions": reverse("projects:check-permissions") + f"?user=alice&project={project.pk}",
        "my-account": reverse("accounts:my-account"),
        "using-the-apis": reverse("accounts:using-the-apis"),
        "create-users": reverse("accounts:create-users"),
        "not-found": "/no-such-page/",
    }
    for step, url in pages.items():
        browsing.open(url)
        if step == "not-found":  # the page's own status, which Chromium reports on the console
            browsing.errors[:] = [error for error in browsing.errors if "status of 404" not in error]
        assert page.locator("main h1").count() == 1, step
        assert_fits(browsing, step)
        assert_skip_link_comes_first(page)
    browsing.open(reverse("accounts:user-detail", args=[ram_user.ram_user.pk]))
    expect(page.get_by_role("button", name="Disable")).to_be_visible()  # the AccessKey panel, both states
    expect(page.get_by_role("button", name="Enable")).to_be_visible()

    # alice's own credential page: her AccessKeys, projects and what her roles allow.
    page.context.clear_cookies()
    browsing.open(reverse("accounts:ram-sign-in", args=[owner.account.default_domain]))
    assert_fits(browsing, "ram-user-sign-in")
    page.get_by_label("Logon name").fill("alice")
    page.get_by_label("Password").fill(RAM_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(browsing.base_url + reverse("accounts:my-credentials"))
    expect(page.get_by_test_id("my-projects")).to_contain_text("sales_dw")
    assert_fits(browsing, "my-credentials")
    assert_skip_link_comes_first(page)


# ---- contrast -----------------------------------------------------------------------------------------------------

BUTTON_CLASS = re.compile(r"\bbtn-(?:outline-)?(?:primary|secondary|success|danger|warning|info|light|dark|link)\b")


def button_classes_in_use() -> set[str]:
    """Every colour class of a button in the templates, the forms' helpers and the scripts."""
    files = [*(ROOT / "templates").rglob("*.html"), *(ROOT / "static").rglob("*.js")]
    files += [path for app in ("accounts", "projects", "portal") for path in (ROOT / app).rglob("*.py")]
    return {match for path in files for match in BUTTON_CLASS.findall(path.read_text())}


def linear(channel: float) -> float:
    channel /= 255
    return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4


def luminance(rgb: tuple[float, float, float]) -> float:
    r, g, b = (linear(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def over(top: list[float], below: tuple[float, float, float]) -> tuple[float, float, float]:
    """An rgba colour composited over an opaque one."""
    r, g, b, a = top
    return (r * a + below[0] * (1 - a), g * a + below[1] * (1 - a), b * a + below[2] * (1 - a))


def contrast(text: list[float], background: tuple[float, float, float]) -> float:
    lighter, darker = sorted((luminance(over(text, background)), luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


# In the page: the computed text colour of an element and the opaque colour behind it (every ancestor's background,
# composited from the canvas up; on a hovered row of a .table-hover, Bootstrap's hover tint too), as [r, g, b, a].
COLOURS_JS = """
el => {
  const rgba = css => {
    const m = css.match(/[\\d.]+/g).map(Number);
    return [m[0], m[1], m[2], m.length > 3 ? m[3] : 1];
  };
  const probe = document.createElement('span');
  document.body.appendChild(probe);
  const parse = value => {
    probe.style.color = '';
    probe.style.color = value.trim();
    return rgba(getComputedStyle(probe).color);
  };
  const layers = [];
  for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
    if (node.tagName === 'TD' && node.closest('table.table-hover')) {  // (the tint lies over the cell's colour)
      layers.push(parse(getComputedStyle(node.closest('table')).getPropertyValue('--bs-table-hover-bg')));
    }
    layers.push(rgba(getComputedStyle(node).backgroundColor));
  }
  probe.remove();
  let behind = [255, 255, 255];
  for (const [r, g, b, a] of layers.reverse()) {
    behind = [r * a + behind[0] * (1 - a), g * a + behind[1] * (1 - a), b * a + behind[2] * (1 - a)];
  }
  return {text: rgba(getComputedStyle(el).color), background: behind};
}
"""

# Where buttons stand in the portal: the page, a card's header, a hovered row of a table, and the dark navigation bar
# (where only the light outline is used).
SAMPLES_JS = """
classes => {
  const main = document.querySelector('main');
  const holder = document.createElement('div');
  holder.id = 'contrast-samples';
  holder.innerHTML = '<div data-context="page"></div>'
    + '<div class="card"><div class="card-header" data-context="card-header"></div></div>'
    + '<table class="table table-hover"><tbody><tr><td data-context="hovered-table-row"></td></tr></tbody></table>';
  main.prepend(holder);
  const navbar = document.querySelector('nav.navbar .container-fluid');
  navbar.insertAdjacentHTML('beforeend', '<span data-context="navbar"></span>');
  for (const cls of classes) {
    const contexts = cls === 'btn-outline-light' ? ['navbar'] : ['page', 'card-header', 'hovered-table-row'];
    for (const context of contexts) {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'btn btn-sm ' + cls;
      button.textContent = cls;
      button.dataset.sample = cls + ' on ' + context;
      button.style.transition = 'none';  // the colours of each state as they end, not halfway through
      document.querySelector('[data-context="' + context + '"]').appendChild(button);
    }
  }
}
"""


def test_buttons_meet_wcag_aa_contrast_in_the_colours_served(browsing, owner, ram_user):
    page = browsing.page
    project = onboarded_account(owner, ram_user)
    sign_in_owner(browsing, owner)
    classes = sorted(button_classes_in_use())
    assert {"btn-primary", "btn-outline-warning", "btn-outline-danger", "btn-link"} <= set(classes), classes
    measured: dict[str, float] = {}

    # 1. Every colour class in use, in every place a button stands, at rest, under the pointer and pressed.
    browsing.open(reverse("accounts:user-detail", args=[ram_user.ram_user.pk]))
    browsing.snap("user-detail")
    page.evaluate(SAMPLES_JS, classes)
    browsing.snap("button-samples")
    for sample in page.locator("[data-sample]").all():
        name = sample.get_attribute("data-sample")
        page.mouse.move(0, 0)
        resting = sample.evaluate(COLOURS_JS)
        sample.hover()
        hovered = sample.evaluate(COLOURS_JS)
        page.mouse.down()
        pressed = sample.evaluate(COLOURS_JS)
        page.mouse.up()
        for state, colours in (("at rest", resting), ("hovered", hovered), ("pressed", pressed)):
            measured[f"{name}, {state}"] = contrast(colours["text"], tuple(colours["background"]))
    page.mouse.move(0, 0)

    # 2. Every visible, enabled button and button-styled link on real pages, where it stands.
    for url in (
        reverse("accounts:user-detail", args=[ram_user.ram_user.pk]),
        reverse("accounts:user-list"),
        reverse("accounts:packet-list"),
        reverse("projects:project-detail", args=[project.pk]),
        reverse("projects:project-list"),
        reverse("accounts:my-account"),
        reverse("accounts:audit-trail"),
    ):
        browsing.open(url)
        page.mouse.move(0, 0)
        for button in page.locator(".btn:visible:not(:disabled)").all():
            colours = button.evaluate(COLOURS_JS)
            label = (
                " ".join(button.inner_text().split())
                or button.get_attribute("value")
                or button.get_attribute("aria-label")
            )
            measured[f"{url} “{label}”"] = contrast(colours["text"], tuple(colours["background"]))

    folder = ARTIFACTS / browsing.test_name
    folder.mkdir(parents=True, exist_ok=True)
    report = {name: round(ratio, 2) for name, ratio in sorted(measured.items(), key=lambda item: item[1])}
    (folder / "contrast.json").write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
    too_low = {name: ratio for name, ratio in report.items() if ratio < AA_TEXT}
    assert too_low == {}, too_low
    assert len(measured) > 3 * 3 * len(classes)  # the samples and the real pages were all measured
    # The yellow outline ("Disable" an AccessKey) now reads; Bootstrap's own would be 1.63:1.
    assert report["btn-outline-warning on page, at rest"] >= 7
