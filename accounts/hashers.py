from django.contrib.auth.hashers import Argon2PasswordHasher


class OwaspArgon2idHasher(Argon2PasswordHasher):
    """Argon2id at OWASP's recommended minimum: 19 MiB of memory, 2 iterations, parallelism 1."""

    time_cost = 2
    memory_cost = 19 * 1024
    parallelism = 1
