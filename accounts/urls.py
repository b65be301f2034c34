from django.urls import URLPattern, path

from accounts.access_key_pages import SCOPE_URLS, key_url_name
from accounts.views import (
    access_keys,
    account,
    alias,
    audit,
    bulk,
    groups,
    invitations,
    language,
    me,
    packets,
    passkeys,
    ram_users,
    reveals,
    sign_in,
)

app_name = "accounts"


def access_key_paths(scope: str) -> list[URLPattern]:
    """ "Create AccessKey", "Enable", "Disable" and "Delete" for one kind of key holder."""
    prefix = SCOPE_URLS[scope][0]
    views = {
        "enable": access_keys.enable_access_key,
        "disable": access_keys.disable_access_key,
        "delete": access_keys.delete_access_key_view,
    }
    return [
        path(
            f"{prefix}access-keys/create/",
            access_keys.create_access_key,
            {"scope": scope},
            name=key_url_name(scope, "create"),
        ),
        *(
            path(f"{prefix}access-keys/<str:key_id>/{verb}/", view, {"scope": scope}, name=key_url_name(scope, verb))
            for verb, view in views.items()
        ),
    ]


urlpatterns = [
    path("", sign_in.home, name="home"),  # also the RAM OpenAPI endpoint (accounts.api.endpoint.RamApiMiddleware)
    path("signin/", sign_in.owner_sign_in, name="owner-sign-in"),
    path("signup/", sign_in.sign_up, name="sign-up"),
    path("signin/continue/", sign_in.sign_in_continue, name="sign-in-continue"),
    path("signin/verify/", sign_in.sign_in_verify, name="sign-in-verify"),
    path("signin/mfa/", sign_in.sign_in_enrol, name="sign-in-enrol"),
    path("signin/backup-codes/<uuid:uid>/", reveals.sign_in_backup_codes, name="sign-in-backup-codes"),
    path("signin/password/", sign_in.sign_in_change_password, name="sign-in-change-password"),
    path("signin/<str:domain>/", sign_in.ram_sign_in, name="ram-sign-in"),
    path("signout/", sign_in.sign_out, name="sign-out"),
    path("overview/", account.overview, name="overview"),
    path("users/", ram_users.user_list, name="user-list"),
    path("users/create/", ram_users.create_users, name="create-users"),
    path("users/bulk/confirm/", bulk.confirm_bulk_action, name="confirm-bulk-action"),
    path("users/bulk/apply/", bulk.apply_bulk_action, name="apply-bulk-action"),
    path("users/bulk/<str:token>/", bulk.bulk_action_report, name="bulk-action-report"),
    path("users/<int:pk>/", ram_users.user_detail, name="user-detail"),
    path("users/<int:pk>/edit/", ram_users.edit_user, name="edit-user"),
    path("users/<int:pk>/delete/", ram_users.delete_user, name="delete-user"),
    path("users/<int:pk>/logon/", ram_users.modify_logon_settings_view, name="modify-logon-settings"),
    path("users/<int:pk>/mfa/reset/", ram_users.reset_mfa_view, name="reset-mfa"),
    path("users/<int:pk>/sign-in-lock/clear/", ram_users.clear_sign_in_lock_view, name="clear-sign-in-lock"),
    path("users/<int:pk>/policies/attach/", ram_users.attach_policy_view, name="attach-policy"),
    path("users/<int:pk>/groups/add/", groups.add_user_to_group_view, name="add-user-to-group"),
    path("users/<int:pk>/policies/<str:policy_name>/detach/", ram_users.detach_policy_view, name="detach-policy"),
    path("users/<int:pk>/instructions/", packets.new_instructions_packet, name="new-instructions-packet"),
    path("users/pdf/", packets.pdf_for_users, name="pdf-for-users"),
    path("packets/", packets.packet_list, name="packet-list"),
    path("packets/print/", packets.print_packets, name="print-packets"),
    path("packets/pdf/", packets.pdf_packets, name="pdf-packets"),
    path("packets/email/", packets.email_packet, name="email-packet"),
    path("packets/<int:pk>/revoke/", packets.revoke_packet, name="revoke-packet"),
    path("packets/<int:pk>/resend/", invitations.resend_invitation, name="resend-invitation"),
    path("claim/", packets.claim, name="claim"),
    path("invitation/", invitations.invitation, name="invitation"),
    path("claim/<uuid:uid>/", packets.claim_shown, name="claim-shown"),
    path("issued/<uuid:uid>/", reveals.one_time_reveal, name="one-time-reveal"),
    path("settings/security/", account.security_settings, name="security-settings"),
    path("settings/password-policy/", account.password_policy, name="password-policy"),
    path("settings/alias/", alias.update_default_domain, name="update-default-domain"),
    path("settings/alias/clear/", alias.clear_enterprise_alias_view, name="clear-enterprise-alias"),
    path("groups/", groups.group_list, name="group-list"),
    path("groups/create/", groups.create_group_view, name="create-group"),
    path("groups/<int:group_pk>/", groups.group_detail, name="group-detail"),
    path("groups/<int:group_pk>/edit/", groups.edit_group, name="edit-group"),
    path("groups/<int:group_pk>/delete/", groups.delete_group_view, name="delete-group"),
    path("groups/<int:group_pk>/members/add/", groups.add_group_members, name="add-group-members"),
    path("groups/<int:group_pk>/members/<int:user_pk>/remove/", groups.remove_group_member, name="remove-group-member"),
    path("groups/<int:group_pk>/policies/attach/", groups.attach_group_policy_view, name="attach-group-policy"),
    path(
        "groups/<int:group_pk>/policies/<str:policy_name>/detach/",
        groups.detach_group_policy_view,
        name="detach-group-policy",
    ),
    path("policies/", account.policy_list, name="policy-list"),
    path("credential-report/", account.credential_report, name="credential-report"),
    path("credential-report/download/", account.credential_report_download, name="credential-report-download"),
    path("audit/", audit.audit_trail, name="audit-trail"),
    path("audit/export.csv", audit.audit_export, name="audit-export"),
    path("me/", me.my_credentials, name="my-credentials"),
    path("me/password/", me.change_password, name="change-password"),
    path("me/mfa/", me.bind_mfa, name="bind-mfa"),
    path("me/mfa/<int:device_pk>/remove/", me.remove_mfa_device_view, name="remove-mfa-device"),
    path("me/passkeys/add/", passkeys.add_passkey, name="add-passkey"),
    path("me/passkeys/<int:passkey_pk>/remove/", passkeys.remove_passkey, name="remove-passkey"),
    path("me/passkeys/begin/", passkeys.begin_passkey_registration, name="begin-passkey-registration"),
    path("me/passkeys/complete/", passkeys.complete_passkey_registration, name="complete-passkey-registration"),
    path("me/passkeys/confirm/", passkeys.passkey_confirmation_options, name="passkey-confirmation-options"),
    path("me/passkeys/confirm/begin/", passkeys.begin_passkey_confirmation, name="begin-passkey-confirmation"),
    path("me/passkeys/confirm/complete/", passkeys.complete_passkey_confirmation, name="complete-passkey-confirmation"),
    path("signin/passkey/begin/", passkeys.begin_passkey_sign_in, name="begin-passkey-sign-in"),
    path("signin/passkey/complete/", passkeys.complete_passkey_sign_in, name="complete-passkey-sign-in"),
    path("passkeys/texts.js", passkeys.passkey_script_texts, name="passkey-script-texts"),
    path("using-the-apis/", me.using_the_apis, name="using-the-apis"),
    path("language/", language.choose_language, name="choose-language"),
    path("account/", me.my_account, name="my-account"),
    path("account/sign-in-lock/clear/", me.clear_own_sign_in_lock_view, name="clear-own-sign-in-lock"),
    path("account/backup-codes/", me.regenerate_backup_codes_view, name="regenerate-backup-codes"),
    path("account/sign-out-everywhere/", me.sign_out_everywhere_view, name="sign-out-everywhere"),
    *(key_path for scope in SCOPE_URLS for key_path in access_key_paths(scope)),
]
