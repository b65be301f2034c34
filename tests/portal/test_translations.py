"""Nothing is left in English for a person who reads Chinese (issue 18): the committed catalogue is complete and
current (makemessages adds nothing to it, no entry is empty or fuzzy, the compiled one is built, never committed),
and every page of the portal, its emails and its delivery sheets, rendered in zh-hans, carry no English word that is
not a proper name, a code or an identifier."""

import html
import re
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import translation

from accounts.models import Authenticator, User
from accounts.services.access_keys import issue_access_key
from accounts.services.groups import add_to_group, attach_group_policy, create_group
from accounts.services.otp import new_authenticator
from accounts.services.policies import attach_policy
from accounts.services.ram_users import NewRamUser, create_ram_users
from accounts.services.security import update_security_settings
from projects.matrix import Role
from projects.services import authorize_cross_project, create_project, grant_group_roles
from tests.conftest import RAM_PASSWORD, make_ram_user
from tests.portal.test_gates import URLS, keyed_project

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
ZH = "zh-hans"


# --- The catalogue --------------------------------------------------------------------------------------------


def read_po(path: Path) -> dict[tuple[str, str], dict]:
    """The entries of a .po file: (msgctxt, msgid) → {"msgstr": [each form], "fuzzy": bool}. Obsolete ones left out."""
    entries: dict[tuple[str, str], dict] = {}
    entry: dict = {}
    field = ""

    def finish() -> None:
        if entry.get("msgid"):  # (the header's msgid is empty)
            entries[(entry.get("msgctxt", ""), entry["msgid"])] = {
                "msgstr": [value for key, value in sorted(entry.items()) if key.startswith("msgstr")],
                "fuzzy": entry.get("fuzzy", False),
            }

    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            finish()
            entry, field = {}, ""
        elif line.startswith("#,"):
            entry["fuzzy"] = "fuzzy" in line
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            entry[field] += _unquote(line)
        else:
            field, _, value = line.partition(" ")
            entry[field] = _unquote(value)
    return entries


def _unquote(quoted: str) -> str:
    return quoted.strip()[1:-1].encode("utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8")


def test_the_catalogue_holds_every_string_of_the_code_and_each_is_translated(tmp_path):
    call_command("makemessages", locale=["zh_Hans"], no_obsolete=True, into=str(tmp_path), verbosity=0)
    fresh = read_po(tmp_path / "zh_Hans" / "LC_MESSAGES" / "django.po")
    committed = read_po(CATALOGUE)
    assert len(fresh) > 100  # (a guard against an extraction that finds nothing)
    missing = sorted(msgid for _, msgid in set(fresh) - set(committed))
    assert not missing, f"Strings of the code missing from {CATALOGUE} (run `make catalogues`): {missing[:20]}"
    stale = sorted(msgid for _, msgid in set(committed) - set(fresh))
    assert not stale, f"Entries no string of the code uses any more (run `make catalogues`): {stale[:20]}"
    fuzzy = sorted(msgid for (_, msgid), entry in committed.items() if entry["fuzzy"])
    assert not fuzzy, f"Fuzzy entries: {fuzzy[:20]}"
    empty = sorted(msgid for (_, msgid), entry in committed.items() if not all(entry["msgstr"]))
    assert not empty, f"Untranslated entries: {empty[:20]}"


def test_the_compiled_catalogue_is_built_not_committed():
    with translation.override(ZH):
        assert translation.gettext("Sign out") == "退出登录"  # compiled by `make` from the .po
    tracked = subprocess.run(
        ["git", "ls-files", "--", "*.mo"], cwd=settings.BASE_DIR, capture_output=True, text=True, check=True
    )
    assert tracked.stdout == ""


def test_the_read_po_parser_reads_what_msgfmt_reads(tmp_path):
    po = tmp_path / "x.po"
    po.write_text(
        'msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        '#, fuzzy\nmsgid "A"\nmsgstr "甲"\n\n'
        'msgctxt "k"\nmsgid ""\n"Two "\n"lines"\nmsgstr ""\n\n'
        '#~ msgid "Gone"\n#~ msgstr "旧"\n',
        encoding="utf-8",
    )
    assert read_po(po) == {
        ("", "A"): {"msgstr": ["甲"], "fuzzy": True},
        ("k", "Two lines"): {"msgstr": [""], "fuzzy": False},
    }


# --- English on a Chinese page ----------------------------------------------------------------------------------

# Proper names and terms that stay as they are in Chinese text (the glossary), removed before words are looked at.
KEPT_PHRASES = [
    "AccessKey Secret",
    "AccessKey ID",
    "Alibaba Cloud",
    "Node.js",
    "MaxCompute Studio",
    "Python",
    "pyodps",
    "Java",
    "Google Authenticator",
    "Microsoft Authenticator",
    "English",  # the language picker names each language in itself
    "Authenticator",  # the owner's first MFA device's name, as stored
    "Session",  # "登录 Session 过期时间", the RAM console's own term
]
# Common English words, beside every word of the catalogue's English: any of them left on a Chinese page is English.
COMMON_ENGLISH = set(
    """a about above after again all also an and any are as at be because been before being below between
    both but by can cannot could did do does done down each else for from had has have here how if in
    into is it its just may more most must no not now of off on once only or other our out over own same
    should so some such than that the their them then there these they this those through to too under
    until up very was we were what when where which while who why will with would yes you your add back
    cancel change close confirm continue create created delete disable edit enable export filter help
    hide import invite list name next none ok open page password previous print remove reset save search
    select send show sign status submit user users view""".split()  # noqa: SIM905 (words read better as words)
)
FLAGGED_ACRONYMS = {"OK"}  # acronyms are kept as identifiers, but the console says 确定
SPLIT = re.compile(r"[\s\u3000-\u303f\u4e00-\u9fff\uff00-\uffef，。：；！？（）「」、《》·…—–]+")
EDGES = "\"'“”‘’()[]{}<>«».,;:!?*·…-—–/|"


def dictionary() -> set[str]:
    words = set(COMMON_ENGLISH)
    for _, msgid in read_po(CATALOGUE):
        for chunk in re.sub(r"<[^>]+>|%\(\w+\)s|\{\{[^}]*\}\}", " ", msgid).split():
            token = chunk.strip(EDGES)
            if re.fullmatch(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]", token) and not token.isupper():
                words.add(token.lower())
    for phrase in KEPT_PHRASES:
        words.discard(phrase.lower())
    return words


def english_words(text: str, words: set[str]) -> list[str]:
    """Each English word left in `text`, with what surrounds it. Not words: identifiers (digits, @, _, dots, slashes
    inside), acronyms and CamelCase names (RAM, MFA, AccessKey, AliyunRAMReadOnlyAccess) — except the FLAGGED ones."""
    for phrase in KEPT_PHRASES:
        text = text.replace(phrase, " ")
    found = []
    for match in re.finditer(r"\S+", text):
        for chunk in SPLIT.split(match.group()):
            token = chunk.strip(EDGES)
            if token in FLAGGED_ACRONYMS:
                found.append(token)
                continue
            if len(token) < 2 or not re.fullmatch(r"[A-Za-z][A-Za-z'’-]*", token):
                continue  # an identifier, a number, a code
            if token.isupper() or re.search(r"[A-Z]", token[1:]):
                continue  # an acronym or a CamelCase name
            if "-" in token and not all(part in COMMON_ENGLISH for part in token.lower().split("-")):
                continue  # a name with hyphens (work-phone, aliyun-python-sdk-ram); "sign-in" is English
            if token.lower() in words:
                start = max(match.start() - 40, 0)
                found.append(" ".join(text[start : match.end() + 40].split()))
    return found


def shown_text(page: str) -> str:
    """What a person reads or hears on a page: its text (without scripts, styles and code samples) and the attributes
    that are shown or read out."""
    body = re.sub(r"<(script|style|code|pre|kbd|samp)\b.*?</\1>", " ", page, flags=re.S | re.I)
    attributes = re.findall(
        r'\b(?:title|placeholder|aria-label|alt|data-(?:copied|waiting|failed|sending))="([^"]*)"', body
    )
    attributes += re.findall(r'<input[^>]*type="(?:submit|button)"[^>]*value="([^"]*)"', body)
    attributes += re.findall(r'<input[^>]*value="([^"]*)"[^>]*type="(?:submit|button)"', body)
    text = re.sub(r"<[^>]+>", " ", body)
    return html.unescape(" ".join([text, *attributes]))


def test_the_detector_finds_english_and_lets_names_codes_and_identifiers_pass():
    words = {"add", "members", "group", "data", "eng", "the", "secret", "remove"}
    assert english_words("用户 alice 已创建。Add Members", words) == ["用户 alice 已创建。Add Members"] * 2
    assert english_words("确定", words) == [] and english_words("OK", words) == ["OK"]
    hyphens = "完成 sign-in 的 work-phone"
    assert english_words(hyphens, words | {"sign-in", "work-phone"}) == [hyphens]  # only sign-in
    kept = (
        "AccessKey ID LTAI5tAbc123 · AliyunRAMReadOnlyAccess · RAM 用户 zhangwei@acme-data.onaliyun.com"
        " · role_project_dev · MFA · 2026-11-30 12:00 UTC · data-eng · Alibaba Cloud"
    )
    assert english_words(kept, words) == []
    shown = shown_text('<p title="Remove group">x</p><code>the secret</code><script>var the;</script>')
    assert shown.split() == ["x", "Remove", "group"]


# --- Every page, in Chinese -------------------------------------------------------------------------------------

# What a GET of these answers is not a page a person reads: JSON, files, scripts, or a redirect to the page that
# holds the action's form (the action's own page, where it has one, is walked through its form in the flows below).
NOT_PAGES = {
    "accounts:audit-export": "a CSV file",
    "accounts:credential-report-download": "RAM's CSV",
    "projects:import-template": "the CSV template (its column names are the format's)",
    "projects:import-report": "a CSV file",
    "accounts:passkey-script-texts": "the passkey script's texts (JavaScript; locale/zh_Hans/LC_MESSAGES/djangojs.po)",
    "accounts:passkey-confirmation-options": "JSON",
    "accounts:begin-passkey-confirmation": "JSON, by POST",
    "accounts:complete-passkey-confirmation": "JSON, by POST",
    "accounts:begin-passkey-registration": "JSON, by POST",
    "accounts:complete-passkey-registration": "JSON, by POST",
    "accounts:begin-passkey-sign-in": "JSON, by POST",
    "accounts:complete-passkey-sign-in": "JSON, by POST",
    "healthz": "for load balancers",
    "readyz": "for the orchestrator",
    "projects:odps-authorization": "for pyodps (English, as MaxCompute answers)",
    "projects:odps-not-offered": "for pyodps",
    "accounts:home": "a redirect",
    "accounts:sign-out": "POST only",
    "accounts:choose-language": "POST only",
    "accounts:sign-in-continue": "a redirect to the next sign-in step",
    "accounts:sign-in-backup-codes": "a pending sign-in's one-time page (flow below)",
    "accounts:one-time-reveal": "a form's one-time page (flows below)",
    "accounts:claim-shown": "the claim's one-time page, in the claiming browser",
    "accounts:bulk-action-report": "a bulk action's report (flows below)",
    "projects:import-progress": "an import's page (flows below)",
    "projects:start-import": "POST only",
}
# Actions whose form sits on another page (walked there): a GET of them is refused (405). What they answer to a POST
# (a confirmation, an error, a one-time page) is walked in the flows below.
POST_ONLY = [
    "accounts:add-group-members",
    "accounts:add-user-to-group",
    "accounts:apply-bulk-action",
    "accounts:attach-group-policy",
    "accounts:attach-policy",
    "accounts:clear-enterprise-alias",
    "accounts:clear-own-sign-in-lock",
    "accounts:clear-sign-in-lock",
    "accounts:confirm-bulk-action",
    "accounts:disable-access-key",
    "accounts:disable-account-access-key",
    "accounts:disable-my-access-key",
    "accounts:email-packet",
    "accounts:enable-access-key",
    "accounts:enable-account-access-key",
    "accounts:enable-my-access-key",
    "accounts:new-instructions-packet",
    "accounts:pdf-for-users",
    "accounts:pdf-packets",
    "accounts:print-packets",
    "accounts:regenerate-backup-codes",
    "projects:add-member",
    "projects:apply-bulk-add-members",
    "projects:authorize-cross-project",
    "projects:confirm-bulk-add-members",
    "projects:grant-group-roles",
    "projects:grant-role",
    "projects:revoke-and-delete-user",
    "projects:update-project-settings",
    "accounts:resend-invitation",
]
NOT_PAGES |= dict.fromkeys(POST_ONLY, "POST only: its form is on another page")


@pytest.fixture
def world(owner):
    """An account with something on every page, its owner and a RAM user reading Chinese. Names are not English
    words (the detector would take them for untranslated text)."""
    User.objects.filter(pk=owner.user.pk).update(language=ZH)
    update_security_settings(
        actor=owner.actor,
        otp_code=owner.code(),
        values={"allow_manage_access_keys": True, "allow_manage_mfa": True},
    )
    zhang = make_ram_user(owner, "zhangwei")
    User.objects.filter(pk=zhang.user.pk).update(language=ZH)
    zhang.device = new_authenticator(user=zhang.user, name="zhangwei-phone", confirmed=True)
    key = issue_access_key(actor=owner.actor, holder=zhang.user, otp_code=owner.code()).access_key
    group = create_group(actor=owner.actor, name="data-eng", display_name="数据工程")
    add_to_group(actor=owner.actor, group=group, ram_user=zhang.ram_user)
    attach_group_policy(actor=owner.actor, group=group, policy_name="AliyunRAMReadOnlyAccess")
    attach_policy(actor=owner.actor, ram_user=zhang.ram_user, policy_name="AliyunRAMReadOnlyAccess")
    project = keyed_project(owner, "sales_dw", member=zhang.ram_user)
    source = create_project(actor=owner.actor, name="ods_dw")
    authorize_cross_project(actor=owner.actor, source=source, target=project)
    grant_group_roles(actor=owner.actor, project=project, group=group, roles=[Role.DEV])
    Authenticator.objects.filter(pk=owner.device.pk).update(name="zhuji")  # (a device name, not an English word)
    sealed, invited = create_ram_users(
        actor=owner.actor,
        new_users=[
            NewRamUser(name="liuyang", display_name="刘洋", email="liuyang@example.com", console_logon=True),
            NewRamUser(
                name="chenjing", display_name="陈静", email="chenjing@example.com", console_logon=True, invite=True
            ),
        ],
    )
    User.objects.filter(ram_user__in=[sealed.ram_user, invited.ram_user]).update(language=ZH)  # their sheets, mail
    from tests.accounts.test_passkey_rules import a_passkey_of

    return {
        "owner": owner,
        "zhang": zhang,
        "key": key,
        "owner_key": owner.user.access_keys.get(),
        "group": group,
        "project": project,
        "packet": sealed.packet,
        "invitation": invited.invitation,
        "passkey": a_passkey_of(owner, "YubiKey"),
        "source": source,
    }


def page_url(name: str, world: dict) -> str:
    zhang, project = world["zhang"], world["project"]
    values = {
        "pk": zhang.ram_user.pk,
        "user_pk": zhang.ram_user.pk,
        "group_pk": world["group"].pk,
        "policy_name": "AliyunRAMReadOnlyAccess",
        "device_pk": world["owner"].device.pk,
        "passkey_pk": world["passkey"].pk,
        "domain": world["owner"].account.default_domain,
        "key_id": world["key"].access_key_id,
    }
    if name.startswith("projects:"):
        values["pk"] = project.pk
    if name in ("accounts:revoke-packet",):
        values["pk"] = world["packet"].pk
    if name == "accounts:resend-invitation":
        values["pk"] = world["invitation"].pk
    if "account-access-key" in name:
        values["key_id"] = world["owner_key"].access_key_id
    url = reverse(name, kwargs={group: values[group] for group in URLS[name]})
    query = {
        "projects:remove-member": f"ram_user={zhang.ram_user.pk}",
        "projects:revoke-role": f"ram_user={zhang.ram_user.pk}&role={Role.DEV}",
        "projects:revoke-group-role": f"project={project.pk}&role={Role.DEV}",
        "projects:revoke-cross-project": f"source={world['source'].pk}",
    }.get(name)
    return f"{url}?{query}" if query else url


def reader_of(name: str, world: dict) -> Client:
    """Who opens the page: the RAM user for their own pages, nobody for the public ones, else the owner."""
    from tests.portal.test_gates import OWN_KEYS, PUBLIC

    if name in PUBLIC:
        return Client(HTTP_ACCEPT_LANGUAGE=ZH)
    client = Client()
    person = (
        world["zhang"]
        if name in OWN_KEYS or name in {"accounts:my-credentials", "accounts:using-the-apis"}
        else world["owner"]
    )
    client.force_login(person.user)
    return client


PAGE_NAMES = sorted(set(URLS) - set(NOT_PAGES))


def assert_chinese(response, where: str, *, status: int = 200) -> None:
    assert response.status_code == status, f"{where} answered {response.status_code}"
    assert response["Content-Type"].startswith("text/html"), where
    assert response["Content-Language"] == ZH, where
    left = english_words(shown_text(response.content.decode()), dictionary())
    assert not left, f"English on {where}:\n" + "\n".join(left[:25])


def test_every_name_is_a_page_or_said_not_to_be():
    assert set(NOT_PAGES) <= set(URLS), set(NOT_PAGES) - set(URLS)
    assert len(PAGE_NAMES) > 50


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_every_page_reads_in_chinese(world, settings, name):
    settings.PORTAL_SELF_SIGN_UP = True
    url = page_url(name, world)
    assert_chinese(reader_of(name, world).get(url, follow=True), f"{name} ({url})")


# --- What answers a form, and what is sent -----------------------------------------------------------------------


def owner_client(world: dict) -> Client:
    client = Client()
    client.force_login(world["owner"].user)
    return client


def test_what_answers_the_forms_reads_in_chinese(world, settings):
    """One-time pages, confirmations, refusals and reports: reached by POST."""
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    owner, zhang = world["owner"], world["zhang"]
    client = owner_client(world)
    shown = {}

    def post(label: str, url: str, data: dict) -> None:
        shown[label] = client.post(url, data, follow=True)

    post(
        "create users, refused",
        reverse("accounts:create-users"),
        {
            "users-TOTAL_FORMS": "1",
            "users-INITIAL_FORMS": "0",
            "users-0-name": "bad name!",
            "users-0-password_mode": "generate",
        },
    )
    post(
        "create users, shown once",
        reverse("accounts:create-users"),
        {
            "users-TOTAL_FORMS": "1",
            "users-INITIAL_FORMS": "0",
            "users-0-name": "wangfang",
            "users-0-display_name": "王芳",
            "users-0-console_logon": "on",
            "users-0-password_mode": "generate",
            "users-0-create_access_key": "on",
            "deliver": "show",
            "language": ZH,
            "otp_code": owner.code(),
        },
    )
    post("create AccessKey, wrong code", page_url("accounts:create-access-key", world), {"otp_code": "000000"})
    post("disable AccessKey, asked", page_url("accounts:disable-access-key", world), {})
    post(
        "bulk action, asked",
        reverse("accounts:confirm-bulk-action"),
        {"user": [zhang.ram_user.pk], "action": "attach_policy", "policy": "AliyunRAMReadOnlyAccess"},
    )
    post("bulk action, nobody chosen", reverse("accounts:confirm-bulk-action"), {"action": "attach_policy"})
    post("print a sheet", reverse("accounts:print-packets"), {"packet": [world["packet"].pk]})
    post(
        "security settings, wrong code", reverse("accounts:security-settings"), {"session_hours": "99", "otp_code": "1"}
    )
    post(
        "add member, unknown user",
        page_url("projects:add-member", world),
        {"ram_user": "nobody-here", "roles": [Role.DEV]},
    )
    post("import, not a CSV", reverse("projects:import-users"), {"file": ""})
    post("alias, refused", reverse("accounts:update-default-domain"), {"alias": "-x-", "otp_code": "1"})
    for label, response in shown.items():
        assert_chinese(response, label, status=400 if label == "import, not a CSV" else 200)


def test_sign_in_pages_and_their_refusals_read_in_chinese(world):
    browser = Client(HTTP_ACCEPT_LANGUAGE=ZH)
    domain = world["owner"].account.default_domain
    assert_chinese(
        browser.post(reverse("accounts:ram-sign-in", args=[domain]), {"login": "zhangwei", "password": "no"}),
        "wrong password",
    )
    answer = browser.post(
        reverse("accounts:ram-sign-in", args=[domain]), {"login": "zhangwei", "password": RAM_PASSWORD}, follow=True
    )
    assert_chinese(answer, "the verification step")
    assert_chinese(browser.post(reverse("accounts:sign-in-verify"), {"otp_code": "000000"}), "a wrong code")
    owner_browser = Client(HTTP_ACCEPT_LANGUAGE=ZH)
    refused = owner_browser.post(reverse("accounts:owner-sign-in"), {"email": "nobody@example.com", "password": "x"})
    assert_chinese(refused, "owner sign-in refused")


def test_error_pages_read_in_chinese(world):
    client = owner_client(world)
    missing = client.get("/no-such-page/")
    assert missing.status_code == 404
    left = english_words(shown_text(missing.content.decode()), dictionary())
    assert not left, left
    zhang_client = Client()
    zhang_client.force_login(world["zhang"].user)
    forbidden = zhang_client.get(reverse("accounts:create-users"))
    assert forbidden.status_code == 403
    assert not english_words(shown_text(forbidden.content.decode()), dictionary())
    csrf = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE=ZH).post(reverse("accounts:owner-sign-in"), {})
    assert csrf.status_code == 403
    assert not english_words(shown_text(csrf.content.decode()), dictionary())
    nul = Client(HTTP_ACCEPT_LANGUAGE=ZH).get("/signin/?next=a%00b")  # refused before any session is read
    assert nul.status_code == 400 and not english_words(shown_text(nul.content.decode()), dictionary())
    assert "请求" in nul.content.decode() or "无效" in nul.content.decode()
    with translation.override(ZH):
        for template in ("400.html", "500.html"):
            assert not english_words(shown_text(render_to_string(template)), dictionary()), template


def test_what_is_sent_to_a_chinese_reader_reads_in_chinese(world, smtp):
    from accounts.services.packet_mail import deliver_due_emails
    from accounts.services.packets import email_delivery_packet

    email_delivery_packet(actor=world["owner"].actor, packet=world["packet"], to="liuyang@example.com")
    deliver_due_emails()
    assert sorted(message["To"] for message in smtp.messages) == ["chenjing@example.com", "liuyang@example.com"]
    for message in smtp.messages:
        from tests.mail import body_of

        text = " ".join([message["Subject"], shown_text(body_of(message))])
        left = english_words(text, dictionary())
        assert not left, left


def test_one_time_pages_reports_and_sheets_read_in_chinese(world, settings):
    """The pages a form leads to once (a secret shown, a report), the PDF sheet, and a pending sign-in's steps."""
    from accounts.models import RamUser
    from tests.accounts.test_sheet_scripts import text_of_pdf
    from tests.conftest import form_token_of

    owner, zhang = world["owner"], world["zhang"]
    client = owner_client(world)
    create_key = reverse("accounts:create-account-access-key")
    token = form_token_of(client.get(create_key))
    assert_chinese(client.post(create_key, {"otp_code": owner.code(), "form_token": token}, follow=True), "AccessKey")
    codes = reverse("accounts:regenerate-backup-codes")
    token = form_token_of(client.get(reverse("accounts:my-account")))
    assert_chinese(client.post(codes, {"otp_code": owner.code(), "form_token": token}, follow=True), "backup codes")
    bulk = {"user": [zhang.ram_user.pk], "action": "attach_policy", "policy": "AliyunRAMAuditAccess", "confirm": "yes"}
    assert_chinese(client.post(reverse("accounts:apply-bulk-action"), bulk, follow=True), "bulk action report")

    pdf = client.post(reverse("accounts:pdf-packets"), {"packet": [world["packet"].pk]})
    assert pdf["Content-Type"] == "application/pdf"
    left = english_words(text_of_pdf(pdf.content), dictionary())
    assert not left, "English on the PDF sheet:\n" + "\n".join(left)

    # A RAM user who must bind MFA, at the logon link: the enrolment step.
    RamUser.objects.filter(pk=zhang.ram_user.pk).update(must_bind_mfa=True)
    Authenticator.objects.filter(user=zhang.user).delete()
    browser = Client(HTTP_ACCEPT_LANGUAGE=ZH)
    domain = owner.account.default_domain
    signed = browser.post(
        reverse("accounts:ram-sign-in", args=[domain]), {"login": "zhangwei", "password": RAM_PASSWORD}, follow=True
    )
    assert signed.redirect_chain and signed.redirect_chain[-1][0] == reverse("accounts:sign-in-enrol")
    assert_chinese(signed, "the enrolment step")


def test_start_up_warns_of_a_catalogue_not_compiled(tmp_path, settings):
    from portal.checks import check_compiled_catalogues

    catalogue = tmp_path / "zh_Hans" / "LC_MESSAGES" / "django.po"
    catalogue.parent.mkdir(parents=True)
    catalogue.write_text('msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8\\n"\n', encoding="utf-8")
    settings.LOCALE_PATHS = [tmp_path]
    [warning] = check_compiled_catalogues(None)
    assert warning.id == "portal.W002" and str(catalogue) in warning.msg
    subprocess.run(["msgfmt", "-o", str(catalogue.with_suffix(".mo")), str(catalogue)], check=True)
    assert check_compiled_catalogues(None) == []
    settings.LOCALE_PATHS = [Path(settings.BASE_DIR) / "locale"]
    assert check_compiled_catalogues(None) == []  # `make` compiled the portal's own


def test_the_pages_of_links_imports_and_forced_steps_read_in_chinese(world, smtp):
    """A claimed packet's page, an accepted invitation's, an import checked and under way, a forced password change."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from accounts.models import RamUser
    from accounts.services.packet_mail import deliver_due_emails
    from accounts.services.packets import email_delivery_packet
    from projects.imports import run_import
    from projects.models import UserImport
    from tests.mail import link_token

    owner = world["owner"]
    email_delivery_packet(actor=owner.actor, packet=world["packet"], to="liuyang@example.com")
    deliver_due_emails()
    by_address = {message["To"]: message for message in smtp.messages}
    claimer = Client(HTTP_ACCEPT_LANGUAGE=ZH)
    claim = link_token(by_address["liuyang@example.com"], "claim")
    assert_chinese(claimer.post(reverse("accounts:claim"), {"claim_code": claim}), "the claimed packet")
    invited = Client(HTTP_ACCEPT_LANGUAGE=ZH)
    invitation = link_token(by_address["chenjing@example.com"], "invitation")
    assert_chinese(invited.post(reverse("accounts:invitation"), {"invitation_code": invitation}), "the invitation")
    weak = {"invitation_code": invitation, "new_password": "short", "confirm_password": "short"}
    assert_chinese(invited.post(reverse("accounts:invitation"), weak), "a weak password refused")

    client = owner_client(world)
    rows = "user_name,display_name,console_logon,deliver\nhuangli,黄丽,no,seal\nbad name!,坏,no,seal\n"
    checked = client.post(reverse("projects:import-users"), {"file": SimpleUploadedFile("p.csv", rows.encode())})
    assert_chinese(checked, "an import checked")
    job = UserImport.objects.get()
    started = client.post(reverse("projects:start-import", args=[job.uid]), follow=True)
    assert_chinese(started, "an import under way")
    run_import(str(job.uid))
    assert_chinese(client.get(reverse("projects:import-progress", args=[job.uid])), "an import done")

    RamUser.objects.filter(pk=world["zhang"].ram_user.pk).update(must_reset_password=True)
    Authenticator.objects.filter(user=world["zhang"].user).delete()
    browser = Client(HTTP_ACCEPT_LANGUAGE=ZH)
    domain = owner.account.default_domain
    step = browser.post(
        reverse("accounts:ram-sign-in", args=[domain]), {"login": "zhangwei", "password": RAM_PASSWORD}, follow=True
    )
    assert step.redirect_chain[-1][0] == reverse("accounts:sign-in-change-password")
    assert_chinese(step, "the forced password change")
