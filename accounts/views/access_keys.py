"""AccessKey pages, for three kinds of holder: a RAM user (administrators), the primary account (its owner),
and the signed-in RAM user itself (where the security settings allow it)."""

from typing import Protocol

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters

from accounts.access_key_pages import ACCOUNT, RAM_USER
from accounts.actors import Actor
from accounts.forms import (
    ConfirmForm,
    CreateAccessKeyForm,
    IssueSecretWithOtpForm,
    OtpForm,
    add_errors,
    confirmation_page,
    posted,
)
from accounts.gates import SignedInRequest, actor_of, repeats_go_to_their_page
from accounts.models import AccessKey, OneTimeReveal, RamUser, User
from accounts.permissions import can_write_ram
from accounts.services.access_keys import delete_access_key, issue_access_key, set_access_key_status
from accounts.services.otp import has_mfa_device
from accounts.services.reveals import issue_once
from portal.caching import form_page_cache


class KeyChange(Protocol):
    """A change to one AccessKey, made by a service that checks the actor's code where the change needs one."""

    def __call__(self, *, actor: Actor, access_key: AccessKey, otp_code: str | None) -> None: ...


def key_holder(request: SignedInRequest, scope: str, pk: int | None) -> tuple[User, str]:
    """Whose keys these are and where their page is; refuses (403/404) what the signed-in user may not manage."""
    user = request.user
    if scope == RAM_USER:
        if not can_write_ram(user):
            raise PermissionDenied(_("You are not allowed to change RAM users."))
        ram_user = get_object_or_404(RamUser.objects.for_account(user.account).select_related("user"), pk=pk)
        return ram_user.user, reverse("accounts:user-detail", args=[ram_user.pk])
    if scope == ACCOUNT:
        if not user.is_owner:
            raise PermissionDenied(_("Only the owner manages the primary account's AccessKeys."))
        return user, reverse("accounts:my-account")
    if user.is_owner or not user.account.security_settings.allow_manage_access_keys:
        raise PermissionDenied(_("Your administrator does not allow you to manage your own AccessKeys."))
    return user, reverse("accounts:my-credentials")


@form_page_cache
@sensitive_post_parameters()
@repeats_go_to_their_page
def create_access_key(request: SignedInRequest, scope: str, pk: int | None = None) -> HttpResponse:
    """ "Create AccessKey": the actor's code in the same form; the secret appears once, on the form's one-time page."""
    holder, back_url = key_holder(request, scope, pk)
    if not has_mfa_device(request.user):
        messages.warning(request, _("Creating an AccessKey needs a code from your MFA device: bind one first."))
        return redirect("accounts:bind-mfa")
    form = (CreateAccessKeyForm if scope == RAM_USER else IssueSecretWithOtpForm)(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            page = issue_once(
                user=request.user,
                form_token=form.cleaned_data["form_token"],
                kind=OneTimeReveal.Kind.ACCESS_KEY_CREATED,
                shows_packets=form.cleaned_data.get("deliver") != "seal",
                work=lambda reveal: issue_access_key(
                    actor=actor_of(request), holder=holder, otp_code=form.cleaned_data["otp_code"], reveal=reveal
                ),
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            return redirect(page)
    context = {"form": form, "holder": holder, "back_url": back_url}
    return render(request, "accounts/create_access_key.html", context)


def _change_key(
    request: SignedInRequest, scope: str, pk: int | None, key_id: str, *, change: KeyChange, done_message: str
) -> HttpResponse:
    holder, back_url = key_holder(request, scope, pk)  # refuses before the method is looked at, as gates do
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    access_key = get_object_or_404(AccessKey, user=holder, access_key_id=key_id)
    form = OtpForm(request.POST)
    otp_code = form.data.get("otp_code") or None
    try:
        change(actor=actor_of(request), access_key=access_key, otp_code=otp_code)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, done_message % {"access_key_id": access_key.access_key_id})
    return redirect(back_url)


def enable_access_key(request: SignedInRequest, scope: str, key_id: str, pk: int | None = None) -> HttpResponse:
    def enable(*, actor: Actor, access_key: AccessKey, otp_code: str | None) -> None:
        set_access_key_status(actor=actor, access_key=access_key, otp_code=otp_code, is_active=True)

    return _change_key(
        request, scope, pk, key_id, change=enable, done_message=_("AccessKey %(access_key_id)s was enabled.")
    )


def disable_access_key(request: SignedInRequest, scope: str, key_id: str, pk: int | None = None) -> HttpResponse:
    def disable(*, actor: Actor, access_key: AccessKey, otp_code: str | None) -> None:
        set_access_key_status(actor=actor, access_key=access_key, otp_code=otp_code, is_active=False)

    return _change_key(
        request, scope, pk, key_id, change=disable, done_message=_("AccessKey %(access_key_id)s was disabled.")
    )


@sensitive_post_parameters()
def delete_access_key_view(request: SignedInRequest, scope: str, key_id: str, pk: int | None = None) -> HttpResponse:
    """ "Delete": asks first, with the key's ID typed to confirm (and the owner's code for the primary account's)."""
    holder, back_url = key_holder(request, scope, pk)
    access_key = get_object_or_404(AccessKey, user=holder, access_key_id=key_id)
    form = ConfirmForm(
        posted(request),
        expected=access_key.access_key_id,
        typed_label=_("Type the AccessKey ID to confirm"),
        needs_otp=scope == ACCOUNT,
    )
    if form.is_valid():
        try:
            delete_access_key(
                actor=actor_of(request), access_key=access_key, otp_code=form.cleaned_data.get("otp_code") or None
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(
                request, _("AccessKey %(access_key_id)s was deleted.") % {"access_key_id": access_key.access_key_id}
            )
            return redirect(back_url)
    return confirmation_page(
        request,
        form,
        title=_("Delete AccessKey %(access_key_id)s") % {"access_key_id": access_key.access_key_id},
        consequences=[
            format_html(
                _(
                    "The AccessKey <code>{}</code> of <code>{}</code> is deleted for good: every request signed with "
                    "it is refused from now on, and it never comes back."
                ),
                access_key.access_key_id,
                holder.principal,
            ),
            _(
                "Anything still using it (a script, a scheduled job, an SDK configuration) stops working: give it "
                "another key first."
            ),
            _("It is Active: disable it first, as only an Inactive key can be deleted.")
            if access_key.is_active
            else "",
        ],
        submit_label=_("Delete"),
        cancel_url=back_url,
    )
