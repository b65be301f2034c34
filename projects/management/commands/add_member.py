from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.actors import operator_actor
from accounts.models import RamUser
from projects.models import Project
from projects.services import add_member, grant_roles


class Command(BaseCommand):
    help = "Adds a RAM user to a project with roles (comma-separated), or grants the roles if it is a member."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--project", required=True)
        parser.add_argument("--user", required=True, help="the RAM user's name in the project's account")
        parser.add_argument("--role", required=True, help="role_project_dev[,role_project_pe…]")

    def handle(self, *args: Any, project: str, user: str, role: str, **options: Any) -> None:
        found = Project.objects.filter(name__iexact=project).select_related("account").first()
        if found is None:
            raise CommandError(f"There is no project {project}.")
        ram_user = RamUser.objects.named(account=found.account, name=user)
        if ram_user is None:
            raise CommandError(f"The project's account has no RAM user named {user}.")
        roles = [item.strip() for item in role.split(",") if item.strip()]
        actor = operator_actor(found.account)
        try:
            if found.members.filter(ram_user=ram_user).exists():
                grant_roles(actor=actor, project=found, ram_user=ram_user, roles=roles)
            else:
                add_member(actor=actor, project=found, ram_user=ram_user, roles=roles)
        except (ValidationError, PermissionDenied) as error:
            raise CommandError(" ".join(getattr(error, "messages", [str(error)]))) from None
        self.stdout.write(f"{ram_user.principal} has {', '.join(sorted(roles))} in {found.name}.")
