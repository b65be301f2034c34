"""Every form field a person fills in has a visible <label> (SPEC §5), on every page with a form."""

from html.parser import HTMLParser

from django.test import Client
from django.urls import reverse

from accounts.actors import operator_actor
from accounts.services.access_keys import issue_access_key
from projects.services import add_member, create_project
from tests.conftest import signed_in

NOT_FILLED_IN = {"hidden", "submit", "button", "reset"}


class FieldsAndLabels(HTMLParser):
    def __init__(self):
        super().__init__()
        self.visible_label_for: set[str] = set()
        self.unlabelled: list[tuple[str, str | None]] = []  # (name, id) of fields outside any label
        self.open_labels: list[bool] = []  # for each open <label>: is it visible?

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "label":
            is_visible = "visually-hidden" not in (attributes.get("class") or "")
            self.open_labels.append(is_visible)
            if is_visible and attributes.get("for"):
                self.visible_label_for.add(attributes["for"])
        elif (
            tag in {"input", "select", "textarea"}
            and attributes.get("type", "text") not in NOT_FILLED_IN
            and not any(self.open_labels)
        ):
            self.unlabelled.append((attributes.get("name") or "?", attributes.get("id")))

    def handle_endtag(self, tag):
        if tag == "label" and self.open_labels:
            self.open_labels.pop()

    def without_visible_label(self) -> list[str]:
        return [name for name, field_id in self.unlabelled if field_id not in self.visible_label_for]


def fields_without_label(client: Client, url: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200, url
    parser = FieldsAndLabels()
    parser.feed(response.content.decode())
    return parser.without_visible_label()


def owner_pages(ram_user_pk: int, project_pk: int) -> list[str]:
    """The owner's pages with a form or a table, for a RAM user and a project of the account (also the product
    words' test reads them)."""
    pk = ram_user_pk
    return [
        reverse("accounts:overview"),
        reverse("accounts:user-list"),
        reverse("accounts:create-users"),
        reverse("accounts:user-detail", args=[pk]),
        reverse("accounts:edit-user", args=[pk]),
        reverse("accounts:delete-user", args=[pk]),
        reverse("accounts:modify-logon-settings", args=[pk]),
        reverse("accounts:create-access-key", args=[pk]),
        reverse("accounts:create-account-access-key"),
        reverse("accounts:packet-list"),
        reverse("accounts:security-settings"),
        reverse("accounts:password-policy"),
        reverse("accounts:update-default-domain"),
        reverse("accounts:policy-list"),
        reverse("accounts:audit-trail"),
        reverse("accounts:using-the-apis"),
        reverse("accounts:my-account"),
        reverse("accounts:bind-mfa"),
        reverse("projects:project-list"),
        reverse("projects:project-detail", args=[project_pk]),
        reverse("projects:delete-project", args=[project_pk]),
        reverse("projects:permissions"),
        reverse("projects:check-permissions"),
    ]


def test_every_field_on_every_form_page_has_a_visible_label(owner, ram_user):
    operator = operator_actor(owner.account)
    issue_access_key(actor=operator, holder=owner.user, otp_code=None)  # a project needs an enabled key
    project = create_project(actor=operator, name="labels_project")
    add_member(actor=operator, project=project, ram_user=ram_user.ram_user, roles=["role_project_dev"])
    pk = ram_user.ram_user.pk
    pages = {
        signed_in(owner): owner_pages(pk, project.pk),
        signed_in(ram_user): [
            reverse("accounts:my-credentials"),
            reverse("accounts:change-password"),
            reverse("projects:project-list"),
        ],
        Client(): [
            reverse("accounts:owner-sign-in"),
            reverse("accounts:ram-sign-in", args=[owner.account.default_domain]),
            reverse("accounts:claim"),
        ],
    }
    missing = {
        url: fields for client, urls in pages.items() for url in urls if (fields := fields_without_label(client, url))
    }
    assert missing == {}
