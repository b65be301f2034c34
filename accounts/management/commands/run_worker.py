import time

from django.core.management.base import BaseCommand, CommandParser

from accounts.services.claim_links import expire_stale_packets
from accounts.services.packet_mail import deliver_due_emails
from accounts.services.reveals import expire_unseen_reveals
from portal.planner import refresh_planner_statistics


class Command(BaseCommand):
    help = (
        "Drains the packet email outbox (with retries), expires stale claim links and wipes secrets whose one-time "
        "page was never opened, and keeps SQLite's planner statistics fresh; runs until stopped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="one pass, then exit")
        parser.add_argument("--interval", type=float, default=5.0, help="seconds between passes")

    def handle(self, *args: object, once: bool, interval: float, **options: object) -> None:
        while True:
            sent = deliver_due_emails()
            expired = expire_stale_packets()
            expire_unseen_reveals()
            refresh_planner_statistics()
            if sent or expired:
                self.stdout.write(f"sent {sent} packet emails, expired {expired} claim links")
            if once:
                return
            time.sleep(interval)
