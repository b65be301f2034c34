from django.urls import path

from projects.views import bulk, group_roles, import_users, members, odps, permissions, projects

app_name = "projects"

urlpatterns = [
    path("projects/", projects.project_list, name="project-list"),
    path("projects/<int:pk>/", projects.project_detail, name="project-detail"),
    path("projects/<int:pk>/settings/", projects.update_project_settings_view, name="update-project-settings"),
    path("projects/<int:pk>/members/add/", members.add_member_view, name="add-member"),
    path("projects/<int:pk>/members/grant/", members.grant_role_view, name="grant-role"),
    path("projects/<int:pk>/members/revoke/", members.revoke_role_view, name="revoke-role"),
    path("projects/<int:pk>/members/remove/", members.remove_member_view, name="remove-member"),
    path("projects/<int:pk>/cross-project/", projects.authorize_cross_project_view, name="authorize-cross-project"),
    path("projects/<int:pk>/cross-project/revoke/", projects.revoke_cross_project_view, name="revoke-cross-project"),
    path("projects/<int:pk>/delete/", projects.delete_project_view, name="delete-project"),
    path("groups/<int:group_pk>/project-roles/grant/", group_roles.grant_group_roles_view, name="grant-group-roles"),
    path("groups/<int:group_pk>/project-roles/revoke/", group_roles.revoke_group_role_view, name="revoke-group-role"),
    path("users/import/", import_users.import_users, name="import-users"),
    path("users/import/template.csv", import_users.import_template, name="import-template"),
    path("users/import/<uuid:uid>/start/", import_users.start_import, name="start-import"),
    path("users/import/<uuid:uid>/", import_users.import_progress, name="import-progress"),
    path("users/import/<uuid:uid>/report.csv", import_users.import_report, name="import-report"),
    path("projects/add-users/", bulk.confirm_bulk_add_members, name="confirm-bulk-add-members"),
    path("projects/add-users/apply/", bulk.apply_bulk_add_members, name="apply-bulk-add-members"),
    path("permissions/", permissions.permissions, name="permissions"),
    path("permissions/check/", permissions.check_permissions, name="check-permissions"),
    path("users/<int:pk>/revoke-and-delete/", members.revoke_and_delete_user, name="revoke-and-delete-user"),
    # The MaxCompute endpoint for pyodps (endpoint='<portal>/api'); odps.ENDPOINT_PATH must match "api/".
    path("api/projects/<str:project>/authorization", odps.odps_authorization, name="odps-authorization"),
    path("api/<path:resource>", odps.odps_not_offered, name="odps-not-offered"),
]
