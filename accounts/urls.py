from django.urls import path

from accounts.views import account, audit, me, ram_users, sign_in

app_name = "accounts"

urlpatterns = [
    path("", sign_in.home, name="home"),
    path("signin/", sign_in.owner_sign_in, name="owner-sign-in"),
    path("signup/", sign_in.sign_up, name="sign-up"),
    path("signin/continue/", sign_in.sign_in_continue, name="sign-in-continue"),
    path("signin/verify/", sign_in.sign_in_verify, name="sign-in-verify"),
    path("signin/mfa/", sign_in.sign_in_enrol, name="sign-in-enrol"),
    path("signin/password/", sign_in.sign_in_change_password, name="sign-in-change-password"),
    path("signin/<str:domain>/", sign_in.ram_sign_in, name="ram-sign-in"),
    path("signout/", sign_in.sign_out, name="sign-out"),
    path("overview/", account.overview, name="overview"),
    path("users/", ram_users.user_list, name="user-list"),
    path("users/create/", ram_users.create_users, name="create-users"),
    path("users/<int:pk>/", ram_users.user_detail, name="user-detail"),
    path("users/<int:pk>/edit/", ram_users.edit_user, name="edit-user"),
    path("users/<int:pk>/delete/", ram_users.delete_user, name="delete-user"),
    path("users/<int:pk>/logon/", ram_users.modify_logon_settings_view, name="modify-logon-settings"),
    path("users/<int:pk>/mfa/unbind/", ram_users.unbind_mfa_view, name="unbind-mfa"),
    path("users/<int:pk>/policies/attach/", ram_users.attach_policy_view, name="attach-policy"),
    path("users/<int:pk>/policies/<str:policy_name>/detach/", ram_users.detach_policy_view, name="detach-policy"),
    path("settings/security/", account.security_settings, name="security-settings"),
    path("settings/password-policy/", account.password_policy, name="password-policy"),
    path("policies/", account.policy_list, name="policy-list"),
    path("audit/", audit.audit_trail, name="audit-trail"),
    path("audit/export.csv", audit.audit_export, name="audit-export"),
    path("me/", me.my_credentials, name="my-credentials"),
    path("me/password/", me.change_password, name="change-password"),
    path("me/mfa/", me.bind_mfa, name="bind-mfa"),
    path("account/", me.my_account, name="my-account"),
    path("account/backup-codes/", me.regenerate_backup_codes_view, name="regenerate-backup-codes"),
    path("account/sign-out-everywhere/", me.sign_out_everywhere_view, name="sign-out-everywhere"),
]
