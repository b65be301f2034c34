from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "projects"
    verbose_name = "Projects, members and roles"

    def ready(self) -> None:
        from accounts.sealing import SealedColumn, add_sealed_column
        from accounts.sheets import add_sheet_sections
        from accounts.tasks import add_housekeeping
        from projects import audit_text  # noqa: F401 - registers the projects' actions with the audit trail
        from projects.abilities import project_sheet_sections
        from projects.imports import resume_stalled_imports
        from projects.models import UserImportRow

        add_sheet_sections(project_sheet_sections)  # every delivery sheet lists the user's projects and roles
        add_housekeeping(resume_stalled_imports)  # an import whose worker stopped goes on with another
        # Typed passwords waiting in an import's rows: re-sealed by rotate_secret_keys, sampled at start-up.
        add_sealed_column(
            SealedColumn(
                UserImportRow,
                "sealed_password",
                key="import_rows",
                noun="import rows waiting with a typed password",
                account="job__account_id",
            )
        )
