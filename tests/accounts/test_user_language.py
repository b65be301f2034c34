"""A RAM user's language (issue 18): the administrator chooses it on "Create User" (for every user of the request;
their own language unless they choose another), the user's page shows it, and "Edit" changes it. Anything that is
not one of the portal's languages is refused, and changes nothing."""

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import RamUser, User
from accounts.services.ram_users import BatchRejected, NewRamUser, create_ram_users, update_ram_user
from portal.models import AuditEvent
from tests.conftest import make_ram_user, signed_in
from tests.db_state import database_state

LANGUAGES = [code for code, _name in settings.LANGUAGES]


def user_rows(*names: str, **options: str) -> dict[str, str]:
    """Create User's form: one row per name, and the request-wide options (language, deliver…)."""
    data = {"users-TOTAL_FORMS": str(len(names)), "users-INITIAL_FORMS": "0", **options}
    for index, name in enumerate(names):
        data |= {f"users-{index}-name": name, f"users-{index}-display_name": name.title()}
    return data


def language_of(name: str) -> str:
    return User.objects.get(ram_user__name=name).language


def edit_data(ram_user: RamUser, **changes: str) -> dict[str, str]:
    profile = {
        field: getattr(ram_user, field) for field in ("name", "display_name", "email", "mobile_phone", "comments")
    }
    return profile | changes


@pytest.mark.parametrize("language", LANGUAGES)
def test_create_user_gives_every_new_user_the_chosen_language(owner, language):
    client = signed_in(owner)
    response = client.post(reverse("accounts:create-users"), user_rows("carol", "dave", language=language))
    assert response.status_code == 302, response.context and response.context["options"].errors
    assert language_of("carol") == language and language_of("dave") == language
    # The user's page names it, in itself.
    page = client.get(reverse("accounts:user-detail", args=[RamUser.objects.get(name="carol").pk])).content.decode()
    name = dict(settings.LANGUAGES)[language]
    assert f'data-testid="user-language"><span lang="{language}">{name}</span>' in page


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_service_stores_each_language_and_an_empty_one_leaves_it_unset(owner, language):
    [chosen, unset] = create_ram_users(
        actor=owner.actor,
        new_users=[NewRamUser(name="carol", display_name="Carol", language=language), NewRamUser("dave", "Dave")],
    )
    assert User.objects.get(pk=chosen.ram_user.user_id).language == language
    assert User.objects.get(pk=unset.ram_user.user_id).language == ""


def test_the_form_offers_every_language_named_in_itself(owner):
    page = signed_in(owner).get(reverse("accounts:create-users"))
    field = page.context["options"].fields["language"]
    assert list(field.choices) == list(settings.LANGUAGES)
    html = page.content.decode()
    assert 'name="language"' in html and all(f">{name}</option>" in html for _code, name in settings.LANGUAGES)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_default_is_the_administrator_s_own_language(owner, language):
    User.objects.filter(pk=owner.user.pk).update(language=language)
    client = signed_in(owner)
    page = client.get(reverse("accounts:create-users"))
    assert page.context["options"]["language"].value() == language
    assert f'value="{language}" selected' in page.content.decode()
    # A form posted without the field (an older page, a script) gets what the page would have offered.
    assert client.post(reverse("accounts:create-users"), user_rows("carol")).status_code == 302
    assert language_of("carol") == language


def test_the_default_follows_the_language_the_administrator_s_browser_asks_for(owner):
    """An administrator who never chose a language: the page's (the browser's), offered and applied."""
    client = signed_in(owner)
    page = client.get(reverse("accounts:create-users"), HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    assert page.context["options"]["language"].value() == "zh-hans"
    client.post(reverse("accounts:create-users"), user_rows("carol"), HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    client.post(reverse("accounts:create-users"), user_rows("dave"), HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")
    assert language_of("carol") == "zh-hans" and language_of("dave") == "en"


def test_a_ram_administrator_s_language_is_the_default_too(ram_admin):
    User.objects.filter(pk=ram_admin.user.pk).update(language="zh-hans")
    client = signed_in(ram_admin)
    assert client.post(reverse("accounts:create-users"), user_rows("carol")).status_code == 302
    assert language_of("carol") == "zh-hans"


@pytest.mark.parametrize("bogus", ["fr", "xx", "zh-Hans-CN", "EN", " en"])
def test_create_user_refuses_a_language_the_portal_does_not_speak_and_creates_nobody(owner, bogus):
    client = signed_in(owner)  # signed in first: its session and last login are no change
    before = database_state()
    response = client.post(reverse("accounts:create-users"), user_rows("carol", language=bogus))
    assert response.status_code == 200
    assert response.context["options"].errors["language"] == ["Choose one of the portal's languages."]
    assert "Choose one of the portal&#x27;s languages." in response.content.decode()
    assert database_state() == before


def test_the_service_refuses_a_language_the_portal_does_not_speak(owner):
    before = database_state()
    with pytest.raises(BatchRejected) as refused:
        create_ram_users(
            actor=owner.actor,
            new_users=[NewRamUser("carol", "Carol", language="en"), NewRamUser("dave", "Dave", language="fr")],
        )
    assert refused.value.row_errors == {1: {"language": ["Choose one of the portal's languages."]}}
    assert database_state() == before


@pytest.mark.parametrize("language", [*LANGUAGES, ""])
def test_edit_changes_the_language_and_the_user_page_shows_it(owner, ram_user, language):
    User.objects.filter(pk=ram_user.user.pk).update(language="en" if language != "en" else "zh-hans")
    client = signed_in(owner)
    url = reverse("accounts:edit-user", args=[ram_user.ram_user.pk])
    response = client.post(url, edit_data(ram_user.ram_user, language=language))
    assert response.status_code == 302
    assert language_of("alice") == language
    page = client.get(reverse("accounts:user-detail", args=[ram_user.ram_user.pk])).content.decode()
    shown = page.split('data-testid="user-language">')[1].split("</dd>")[0]
    if language:
        assert shown == f'<span lang="{language}">{dict(settings.LANGUAGES)[language]}</span>'
    else:
        assert "Not chosen" in shown
    # The edit form starts from it.
    assert client.get(url).context["form"]["language"].value() == language


def test_edit_records_the_change_in_the_audit_trail(owner, ram_user):
    client = signed_in(owner)
    client.post(
        reverse("accounts:edit-user", args=[ram_user.ram_user.pk]), edit_data(ram_user.ram_user, language="zh-hans")
    )
    event = AuditEvent.objects.filter(action="ram_user.update").latest("pk")
    assert event.details["changed"] == ["language"]


def test_edit_without_the_language_field_leaves_it_as_it_is(owner, ram_user):
    """A form from before the field (or a script) changes the profile only."""
    User.objects.filter(pk=ram_user.user.pk).update(language="zh-hans")
    client = signed_in(owner)
    data = edit_data(ram_user.ram_user, display_name="Alice Liddell")
    assert client.post(reverse("accounts:edit-user", args=[ram_user.ram_user.pk]), data).status_code == 302
    assert language_of("alice") == "zh-hans"
    assert RamUser.objects.get(pk=ram_user.ram_user.pk).display_name == "Alice Liddell"


@pytest.mark.parametrize("bogus", ["fr", "xx", "zh-Hans-CN", "EN", " en"])
def test_edit_refuses_a_language_the_portal_does_not_speak_and_changes_nothing(owner, ram_user, bogus):
    client = signed_in(owner)  # signed in first: its session and last login are no change
    before = database_state()
    # Another change in the same request is not made either.
    data = edit_data(ram_user.ram_user, display_name="Alice Liddell", language=bogus)
    response = client.post(reverse("accounts:edit-user", args=[ram_user.ram_user.pk]), data)
    assert response.status_code == 200
    assert response.context["form"].errors["language"] == ["Choose one of the portal's languages."]
    assert "Choose one of the portal&#x27;s languages." in response.content.decode()
    assert database_state() == before


def test_the_service_refuses_a_bogus_language_and_changes_nothing(owner, ram_user):
    before = database_state()
    with pytest.raises(ValidationError) as refused:
        update_ram_user(
            actor=owner.actor,
            ram_user=ram_user.ram_user,
            name="alice2",
            display_name="Alice",
            email="",
            mobile_phone="",
            comments="",
            language="xx",
        )
    assert refused.value.message_dict == {"language": ["Choose one of the portal's languages."]}
    assert database_state() == before


def test_the_language_of_a_user_made_elsewhere_is_unset(owner):
    """Users created without a language (the API, the import, before this field) keep the browser's."""
    bob = make_ram_user(owner, "bob")
    assert User.objects.get(pk=bob.user.pk).language == ""
    page = signed_in(owner).get(reverse("accounts:user-detail", args=[bob.ram_user.pk])).content.decode()
    assert "Not chosen (the language of the user's browser)" in page
