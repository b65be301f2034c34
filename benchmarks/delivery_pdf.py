"""1,000 delivery sheets as one PDF on one core (SPEC §7: within 60 s), with names in Latin and in Chinese.

.venv/bin/python benchmarks/delivery_pdf.py [--sheets 1000]

Every other sheet's person has a Chinese display name (张伟, 李娜 and others), so the document embeds the CJK
fallback font; the same count of Latin-only sheets is timed beside it as the baseline.
"""

import argparse
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django

django.setup()

from accounts.models import PrimaryAccount, RamUser, SecuritySettings
from accounts.pdf import delivery_sheets_pdf
from accounts.sheets import DeliverySheet

TARGET_SECONDS = 60


CJK_NAMES = ("张伟（数据平台）", "李娜", "王芳（财务）", "山田 太郎", "김민준")


def sheets(count: int, *, cjk: bool) -> list[DeliverySheet]:
    account = PrimaryAccount(account_id="1234567890123456", name="Benchmark Corp", alias="bench")
    account.security_settings = SecuritySettings(allow_manage_access_keys=True)
    issued = datetime(2026, 11, 22, tzinfo=UTC)
    result = []
    for index in range(count):
        ram_user = RamUser(
            account=account,
            name=f"user{index:05d}",
            display_name=(
                f"{CJK_NAMES[index // 2 % len(CJK_NAMES)]} {index}" if cjk and index % 2 else f"Benchmark User {index}"
            ),
        )
        result.append(
            DeliverySheet(
                ram_user=ram_user,
                account_name=account.name,
                logon_link=account.logon_link,
                logon_link_with_user=f"{account.logon_link}?username={ram_user.name}",
                default_domain=account.default_domain,
                alias_domain=account.alias_domain,
                logon_name=ram_user.logon_name,
                is_console_logon_enabled=True,
                can_manage_own_access_keys=True,
                must_reset_password=True,
                must_bind_mfa=index % 2 == 0,
                issued_by="ALIYUN$1234567890123456",
                issued_at=issued,
                access_key_id=f"LTAI{index:020d}",
                password=f"Pw-{index:05d}-x9!Qz7#Lm2",
                access_key_secret=f"{index:030d}",
            )
        )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sheets", type=int, default=1000)
    args = parser.parse_args()
    timed = {}
    for label, cjk in (("Latin names only", False), ("half of them Chinese", True)):
        prepared = sheets(args.sheets, cjk=cjk)
        started = time.process_time()  # CPU time of this one process: one core
        document = delivery_sheets_pdf(prepared)
        timed[label] = seconds = time.process_time() - started
        print(f"{args.sheets} sheets, {label}: {len(document) / 1e6:.1f} MB PDF in {seconds:.1f} s of CPU on one core")
    seconds = timed["half of them Chinese"]
    print(f"with Chinese names: {seconds / timed['Latin names only']:.2f} × the Latin-only baseline")
    print(f"ratio to the {TARGET_SECONDS} s target: {seconds / TARGET_SECONDS:.2f} (≤ 1.00 meets it)")


if __name__ == "__main__":
    main()
