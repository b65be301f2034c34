"""Concurrency rules hold under threads, each with its own database connection (django-otp's model)."""

import threading

from django.db import connection, connections

from accounts.models import SignInLock
from accounts.services.otp import OtpThrottled, verify_otp
from accounts.services.password_step import SignInRefused, check_ram_user_password
from accounts.services.security import update_password_policy
from tests.conftest import CONSOLE, make_owner, make_ram_user, totp_code


def run_concurrently(count: int, target) -> list:
    barrier = threading.Barrier(count)
    results = [None] * count

    def worker(index):
        try:
            barrier.wait()
            results[index] = target()
        except Exception as error:  # the test inspects every outcome
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_ten_concurrent_submissions_of_one_code_are_accepted_once(transactional_db):
    owner = make_owner("race@acme.example", "Race")
    code = totp_code(owner.device)
    results = run_concurrently(10, lambda: verify_otp(user=owner.user, code=code, origin=CONSOLE))
    accepted = [result for result in results if result is not None and not isinstance(result, Exception)]
    # The rest are refused: as a used code, or told to wait once the first refusal has throttled the device.
    errors = [result for result in results if isinstance(result, Exception) and not isinstance(result, OtpThrottled)]
    assert errors == [], errors
    assert len(accepted) == 1, f"{len(accepted)} accepted on {connection.vendor}"


def test_parallel_wrong_passwords_get_no_more_guesses_than_the_limit(transactional_db):
    owner = make_owner("locks@acme.example", "Locks")
    make_ram_user(owner, "alice")
    update_password_policy(actor=owner.actor, otp_code=owner.code(), values={"max_failed_attempts": 5})
    results = run_concurrently(
        20,
        lambda: check_ram_user_password(account=owner.account, login="alice", password="wrong-guess", origin=CONSOLE),
    )
    assert all(isinstance(result, SignInRefused) for result in results), results
    lock = SignInLock.objects.get(identity=f"{owner.account.account_id}:alice")
    assert lock.failures == 5 and lock.locked_until is not None
