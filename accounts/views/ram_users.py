from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from accounts.access_key_pages import RAM_USER, access_key_panel
from accounts.audit_text import trail_rows
from accounts.forms import (
    AttachPolicyForm,
    BulkActionForm,
    ConfirmForm,
    CreateUsersOptionsForm,
    DeleteRamUserForm,
    EditRamUserForm,
    LogonSettingsForm,
    NewRamUserFormSet,
    UserTableForm,
    add_errors,
    confirmation_page,
    posted,
)
from accounts.gates import SignedInRequest, actor_of, ram_reader_required, ram_writer_required, repeats_go_to_their_page
from accounts.models import (
    AccessKey,
    Authenticator,
    DeliveryPacket,
    Group,
    OneTimeReveal,
    PolicyAttachment,
    RamUser,
)
from accounts.permissions import can_write_ram
from accounts.policies import SYSTEM_POLICIES, SYSTEM_POLICIES_BY_NAME
from accounts.rights import DIRECT, policy_sources_of, source_words
from accounts.services.guessing import lock_status, ram_identity
from accounts.services.logon import LogonChange, modify_logon_settings
from accounts.services.otp import mfa_devices_of
from accounts.services.password_step import clear_sign_in_lock
from accounts.services.policies import attach_policy, detach_policy
from accounts.services.ram_users import (
    BatchRejected,
    DeleteConflict,
    NewRamUser,
    create_ram_users,
    delete_ram_user,
    reset_mfa,
    update_ram_user,
)
from accounts.services.reveals import issue_once
from accounts.user_table import SORTS, UserFilters, users_table
from portal.caching import form_page_cache
from portal.models import AuditEvent
from portal.paging import page_of


def ram_users_of(request: SignedInRequest) -> QuerySet[RamUser]:
    """The signed-in account's RAM users, with what list and detail pages show, in a fixed number of queries."""
    account = request.user.account
    return (
        RamUser.objects.for_account(account)
        .select_related("account")
        .annotate(has_mfa=Exists(Authenticator.objects.filter(user_id=OuterRef("user_id"), confirmed=True)))
        .prefetch_related(Prefetch("policy_attachments", queryset=PolicyAttachment.objects.order_by("policy_name")))
    )


def ram_user_or_404(request: SignedInRequest, pk: int) -> RamUser:
    # The account filter makes a foreign account's ID answer exactly like a missing one.
    return get_object_or_404(ram_users_of(request), pk=pk)


@ram_reader_required
def user_list(request: SignedInRequest) -> HttpResponse:
    account = request.user.account
    form = UserTableForm(request.GET, account=account)
    filters = form.filters()
    page = page_of(users_table(account, filters), request, list_name="users")
    # Each row's policies, its own and its groups' (one query for the page), with where they come from.
    sources = policy_sources_of(ram_user.pk for ram_user in page)
    rows = [
        (ram_user, [(name, source_words(found)) for name, found in sources.get(ram_user.pk, {}).items()])
        for ram_user in page
    ]
    # Each column's header links to its sort; the sorted column's link reverses it.
    current = ("-" if filters.descending else "") + filters.sort
    sort_links = {key: f"-{key}" if current == key else key for key in SORTS}
    filter_query = request.GET.copy()  # what "all that match" means to the bulk actions
    filter_query.pop("page", None)
    return render(
        request,
        "accounts/user_list.html",
        {
            "page": page,
            "rows": rows,
            "form": form,
            "filters": filters,
            "is_filtered": filters != UserFilters(sort=filters.sort, descending=filters.descending),
            "sort_links": sort_links,
            "now": timezone.now(),
            "can_write": can_write_ram(request.user),
            "bulk_form": BulkActionForm(account=account),
            "filter_query": filter_query.urlencode(),
        },
    )


@ram_writer_required
@form_page_cache
@sensitive_post_parameters()
@repeats_go_to_their_page
def create_users(request: SignedInRequest) -> HttpResponse:
    formset = NewRamUserFormSet(request.POST or None, prefix="users")
    wants_keys = request.method == "POST" and any(
        value == "on" for name, value in request.POST.items() if name.endswith("-create_access_key")
    )
    options = CreateUsersOptionsForm(request.POST or None, needs_otp=wants_keys)
    if request.method == "POST" and formset.is_valid() and options.is_valid():
        language = options.cleaned_data["language"]  # the request's, for every new user
        new_users = [new_ram_user(data, language=language) for data in formset.cleaned_data if data]
        try:
            page = issue_once(
                user=request.user,
                form_token=options.cleaned_data["form_token"],
                kind=OneTimeReveal.Kind.USERS_CREATED,
                shows_packets=options.cleaned_data["deliver"] != "seal",
                work=lambda reveal: create_ram_users(
                    actor=actor_of(request),
                    new_users=new_users,
                    otp_code=options.cleaned_data["otp_code"],
                    reveal=reveal,
                ),
            )
        except BatchRejected as rejection:
            forms = [form for form in formset.forms if form.cleaned_data]
            for index, problems in rejection.row_errors.items():
                add_errors(forms[index], ValidationError(problems))
        except ValidationError as error:
            add_errors(options, error)
        else:
            # The new secrets wait, sealed, for the one-time page (or in their packets, for later).
            return redirect(page)
    return render(request, "accounts/create_users.html", {"formset": formset, "options": options})


def new_ram_user(data: dict[str, Any], *, language: str = "") -> NewRamUser:
    return NewRamUser(
        name=data["name"],
        display_name=data["display_name"],
        email=data["email"],
        mobile_phone=data["mobile_phone"],
        comments=data["comments"],
        console_logon=data["console_logon"],
        password=data["password"] if data["password_mode"] == "custom" else None,
        invite=data["console_logon"] and data["password_mode"] == "invite",
        must_reset_password=data["must_reset_password"],
        must_bind_mfa=data["must_bind_mfa"],
        create_access_key=data["create_access_key"],
        language=language,
    )


def audit_targets_of(ram_user: RamUser) -> list[str]:
    """The names the audit trail gives this user as a target: its principal (administration), its logon name
    (its own sign-ins, password and MFA changes) and the sign-in lock's identity (failed sign-ins)."""
    return [ram_user.principal, ram_user.logon_name, ram_identity(ram_user.account.account_id, ram_user.name)]


def attached_policies(ram_user: RamUser) -> set[str]:
    return {attachment.policy_name for attachment in ram_user.policy_attachments.all()}


@ram_reader_required
def user_detail(request: SignedInRequest, pk: int) -> HttpResponse:
    return user_page(request, ram_user_or_404(request, pk))


def via_groups(groups: list[str], group_pks: dict[str, int]) -> SafeString:
    """ "via group a, group b": where a policy the user holds comes from, each group a link to its page."""
    links = format_html_join(
        pgettext("list separator", ", "),
        "{}",
        (
            (
                format_html(
                    _("group {}"),
                    format_html('<a href="{}">{}</a>', reverse("accounts:group-detail", args=[group_pks[name]]), name),
                ),
            )
            for name in groups
            if name in group_pks
        ),
    )
    return format_html(_("via {}"), links)


def user_page(
    request: SignedInRequest, ram_user: RamUser, *, attach_form: AttachPolicyForm | None = None
) -> HttpResponse:
    """The user page; "Add Permissions" refused passes its bound form, to show the error beside the field."""
    identity = ram_identity(ram_user.account.account_id, ram_user.name)
    attached = attached_policies(ram_user)
    memberships = list(ram_user.group_memberships.select_related("group").order_by("group__name"))
    group_pks = {membership.group.name: membership.group.pk for membership in memberships}
    attach_form = attach_form or AttachPolicyForm(attached=attached)
    events = AuditEvent.objects.filter(
        Q(actor=ram_user.principal) | Q(target__in=audit_targets_of(ram_user)),
        account_id=request.user.account.account_id,
    ).order_by("-occurred_at", "-pk")[:20]
    return render(
        request,
        "accounts/user_detail.html",
        {
            "ram_user": ram_user,
            "attach_form": attach_form,
            "can_attach": len(attached) < len(SYSTEM_POLICIES),
            "group_policies": [
                (name, via_groups([source for source in sources if source != DIRECT], group_pks))
                for name, sources in policy_sources_of([ram_user.pk]).get(ram_user.pk, {}).items()
                if sources != (DIRECT,)
            ],
            "memberships": memberships,
            "mfa_devices": mfa_devices_of(ram_user.user),
            "joinable_groups": Group.objects.filter(account=ram_user.account)
            .exclude(memberships__ram_user=ram_user)
            .order_by("name"),
            "events": trail_rows(events, request.user.account),
            "can_write": can_write_ram(request.user),
            "access_key_panel": access_key_panel(ram_user.user, RAM_USER, ram_user.pk),
            "packets": ram_user.delivery_packets.order_by("-created_at", "-pk")[:10],
            "pending_invitation": ram_user.delivery_packets.filter(
                is_invitation=True, state__in=(DeliveryPacket.State.SEALED, DeliveryPacket.State.SENT)
            ).first(),
            **lock_status(identity),
        },
    )


@ram_writer_required
def edit_user(request: SignedInRequest, pk: int) -> HttpResponse:
    ram_user = ram_user_or_404(request, pk)
    initial = {field: getattr(ram_user, field) for field in EditRamUserForm.base_fields if field != "language"}
    initial["language"] = ram_user.user.language
    form = EditRamUserForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            update_ram_user(actor=actor_of(request), ram_user=ram_user, **form.cleaned_data)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("The user was updated."))
            return redirect("accounts:user-detail", pk=ram_user.pk)
    return render(request, "accounts/edit_user.html", {"form": form, "ram_user": ram_user})


@ram_writer_required
@sensitive_post_parameters()
def delete_user(request: SignedInRequest, pk: int) -> HttpResponse:
    ram_user = ram_user_or_404(request, pk)
    form = DeleteRamUserForm(request.POST or None, ram_user=ram_user)
    conflict: DeleteConflict | None = None
    if request.method == "POST" and form.is_valid():
        try:
            delete_ram_user(
                actor=actor_of(request),
                ram_user=ram_user,
                otp_code=form.cleaned_data["otp_code"],
                with_access_keys=True,
            )
        except DeleteConflict as error:
            conflict = error
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("The RAM user %(name)s was deleted.") % {"name": ram_user.name})
            return redirect("accounts:user-list")
    return render(
        request,
        "accounts/delete_user.html",
        {
            "form": form,
            "ram_user": ram_user,
            "conflict": conflict,
            "access_keys": AccessKey.objects.of_user(ram_user.user),
        },
    )


@ram_writer_required
@form_page_cache
@sensitive_post_parameters()
@repeats_go_to_their_page
def modify_logon_settings_view(request: SignedInRequest, pk: int) -> HttpResponse:
    ram_user = ram_user_or_404(request, pk)
    form = LogonSettingsForm(
        request.POST or None,
        initial={
            "is_enabled": "1" if ram_user.is_console_logon_enabled else "0",
            "password_mode": "keep" if ram_user.is_console_logon_enabled else "generate",
            "must_reset_password": ram_user.must_reset_password,
            "must_bind_mfa": ram_user.must_bind_mfa,
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        change = LogonChange(
            is_enabled=data["is_enabled"],
            new_password=data["password"] if data["password_mode"] == "custom" else None,
            generate_password=data["password_mode"] == "generate",
            must_reset_password=data["must_reset_password"],
            must_bind_mfa=data["must_bind_mfa"],
        )
        actor = actor_of(request)
        try:
            if form.issues_password:  # a secret: the form is sent once, and its one-time page shows the password
                page = issue_once(
                    user=request.user,
                    form_token=data["form_token"],
                    kind=OneTimeReveal.Kind.PASSWORD_SET,
                    shows_packets=data["deliver"] != "seal",
                    work=lambda reveal: modify_logon_settings(
                        actor=actor, ram_user=ram_user, change=change, reveal=reveal
                    ),
                )
                return redirect(page)
            # Other changes are the same when made twice.
            modify_logon_settings(actor=actor, ram_user=ram_user, change=change)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("The logon settings were saved."))
            return redirect("accounts:user-detail", pk=ram_user.pk)
    return render(request, "accounts/logon_settings.html", {"form": form, "ram_user": ram_user})


@ram_writer_required
@require_POST
def attach_policy_view(request: SignedInRequest, pk: int) -> HttpResponse:
    """ "Add Permissions"; a refusal (no policy chosen, one already attached) shows beside the picker."""
    ram_user = ram_user_or_404(request, pk)
    form = AttachPolicyForm(request.POST, attached=attached_policies(ram_user))
    if form.is_valid():
        try:
            attach_policy(actor=actor_of(request), ram_user=ram_user, policy_name=form.cleaned_data["policy_name"])
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("%(policy)s was attached.") % {"policy": form.cleaned_data["policy_name"]})
            return redirect("accounts:user-detail", pk=ram_user.pk)
    return user_page(request, ram_user, attach_form=form)


@ram_writer_required
def detach_policy_view(request: SignedInRequest, pk: int, policy_name: str) -> HttpResponse:
    """ "Revoke" a policy: asks first, naming the policy, what it allowed and whom it is taken from."""
    ram_user = ram_user_or_404(request, pk)
    form = ConfirmForm(posted(request), expected=policy_name)
    if form.is_valid():
        try:
            detach_policy(actor=actor_of(request), ram_user=ram_user, policy_name=policy_name)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("%(policy)s was detached.") % {"policy": policy_name})
        return redirect("accounts:user-detail", pk=ram_user.pk)
    policy = SYSTEM_POLICIES_BY_NAME.get(policy_name)
    return confirmation_page(
        request,
        form,
        title=_("Revoke %(policy)s from %(name)s") % {"policy": policy_name, "name": ram_user.name},
        consequences=[
            format_html(
                _("<code>{}</code> loses what <strong>{}</strong> allows, at once: {}"),
                ram_user.principal,
                policy_name,
                policy.description,
            )
            if policy
            else format_html(
                _("<code>{}</code> loses what <strong>{}</strong> allows, at once."), ram_user.principal, policy_name
            ),
            _("It can be attached again later with “Add Permissions”."),
        ],
        submit_label=_("Revoke"),
        cancel_url=reverse("accounts:user-detail", args=[ram_user.pk]),
    )


@ram_writer_required
@sensitive_post_parameters()
def reset_mfa_view(request: SignedInRequest, pk: int) -> HttpResponse:
    """ "Reset MFA" for a user who lost every device: asks first, with the administrator's own code; the user's
    devices and backup codes go, and it binds a new device at its next sign-in."""
    ram_user = ram_user_or_404(request, pk)
    form = ConfirmForm(posted(request), expected=ram_user.name, needs_otp=True)
    if form.is_valid():
        try:
            reset_mfa(actor=actor_of(request), ram_user=ram_user, otp_code=form.cleaned_data["otp_code"])
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(
                request,
                _("The MFA of %(name)s was reset: it binds a new device at its next logon.") % {"name": ram_user.name},
            )
            return redirect("accounts:user-detail", pk=ram_user.pk)
    devices = Authenticator.objects.filter(user=ram_user.user, confirmed=True).count()
    return confirmation_page(
        request,
        form,
        title=_("Reset MFA of %(name)s") % {"name": ram_user.name},
        consequences=[
            format_html(
                ngettext(
                    "The {} MFA device and the backup codes of <code>{}</code> are removed: their codes no longer "
                    "sign it in.",
                    "The {} MFA devices and the backup codes of <code>{}</code> are removed: their codes no longer "
                    "sign it in.",
                    devices,
                ),
                devices,
                ram_user.logon_name,
            ),
            _("It must bind a new device at its next sign-in (“MFA at next logon” becomes required)."),
            _("Confirm with a code from your own MFA device: this is recorded in the audit trail."),
        ],
        submit_label=_("Reset MFA"),
        cancel_url=reverse("accounts:user-detail", args=[ram_user.pk]),
    )


@ram_writer_required
@require_POST
def clear_sign_in_lock_view(request: SignedInRequest, pk: int) -> HttpResponse:
    ram_user = ram_user_or_404(request, pk)
    try:
        clear_sign_in_lock(actor=actor_of(request), ram_user=ram_user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The sign-in lock of %(name)s was cleared.") % {"name": ram_user.name})
    return redirect("accounts:user-detail", pk=ram_user.pk)
