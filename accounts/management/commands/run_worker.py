from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from accounts.tasks import HOUSEKEEPING_SECONDS, run_housekeeping, schedule_housekeeping


class Command(BaseCommand):
    help = (
        "Runs the portal's background work on Django's tasks framework (django-tasks-db's worker): the packet email "
        "outbox (with retries), expiry of stale claim links, wiping of one-time secrets nobody opened, SQLite's "
        "planner statistics, and every task enqueued. Start as many as the work needs; runs until stopped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="one housekeeping pass in this process, then exit")
        parser.add_argument(
            "--interval", type=float, default=HOUSEKEEPING_SECONDS, help="seconds between housekeeping passes"
        )

    def handle(self, *args: object, once: bool, interval: float, **options: object) -> None:
        if once:
            done = run_housekeeping()
            if done["sent"] or done["expired"]:
                self.stdout.write(f"sent {done['sent']} packet emails, expired {done['expired']} claim links")
            return
        schedule_housekeeping(every_seconds=interval)
        call_command("db_worker", "--no-startup-delay", "--interval", "1")
