from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "projects"
    verbose_name = "Projects, members and roles"

    def ready(self) -> None:
        from accounts.sheets import add_sheet_sections
        from projects import audit_text  # noqa: F401 - registers the projects' actions with the audit trail
        from projects.abilities import project_sheet_sections

        add_sheet_sections(project_sheet_sections)  # every delivery sheet lists the user's projects and roles
