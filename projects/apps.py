from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "projects"
    verbose_name = "Projects, members and roles"

    def ready(self) -> None:
        from accounts.sheets import add_sheet_sections
        from accounts.tasks import add_housekeeping
        from projects import audit_text  # noqa: F401 - registers the projects' actions with the audit trail
        from projects.abilities import project_sheet_sections
        from projects.imports import resume_stalled_imports

        add_sheet_sections(project_sheet_sections)  # every delivery sheet lists the user's projects and roles
        add_housekeeping(resume_stalled_imports)  # an import whose worker stopped goes on with another
