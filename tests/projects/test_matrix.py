"""check_permission against the seed's own table: every row, every channel, the owner and each role.

The expected answers come from parsing the seed's words (a verbatim copy beside this file), not from the
matrix module, so a transcription mistake in projects/matrix.py fails here.
"""

from dataclasses import dataclass
from pathlib import Path

import pytest

from accounts.actors import operator_actor
from accounts.services.access_keys import issue_access_key, set_access_key_status
from projects.matrix import MATRIX, Channel, Role
from projects.models import CrossProjectAccess, Project, ProjectMember, RoleGrant
from projects.permissions import check_permission
from tests.conftest import make_ram_user

SEED_TABLE = Path(__file__).with_name("seed_permissions_table.md")
WHERE = {
    "DataWorks": {Channel.CONSOLE},
    "MaxCompute CLI and MaxCompute Studio": {Channel.API},
    "DataWorks, MaxCompute CLI, and MaxCompute Studio": {Channel.CONSOLE, Channel.API},
    "DTplus console and MaxCompute buy page": {Channel.CONSOLE},
    "Billing Management of the Alibaba Cloud console": {Channel.CONSOLE},
}
ROLE_WORDS = {
    "N/A": set(),
    "Project administrator": {Role.ADMIN},
    "Project administrator and developer": {Role.ADMIN, Role.DEV},
    "Project administrator, developer, O&M and deployment personnel": {Role.ADMIN, Role.DEV, Role.PE, Role.DEPLOY},
    "All roles": set(Role),
    "All": set(Role),
}


@dataclass(frozen=True)
class SeedRow:
    description: str
    channels: frozenset
    owner: bool
    ram_roles: frozenset
    dependency: str


def seed_rows() -> list[SeedRow]:
    rows = []
    for line in SEED_TABLE.read_text().splitlines()[2:]:  # the comment, then the header
        cells = [cell.strip() for cell in line.split("|")]
        # A category's first line starts with the category; the lines after it start with the operation.
        if cells[1] not in WHERE and cells[2] in WHERE:
            cells = cells[1:]
        description, where, owner, _, ram, ram_roles, dependency = cells[:7]
        assert where in WHERE, line
        rows.append(
            SeedRow(
                description=description,
                channels=frozenset(WHERE[where]),
                owner=owner == "Supported",
                ram_roles=frozenset(ROLE_WORDS[ram_roles]) if ram == "Supported" else frozenset(),
                dependency="" if dependency in ("N/A", "") else dependency,
            )
        )
    return rows


SEED = seed_rows()


def test_the_seed_table_was_read_whole():
    assert len(SEED) == 36
    assert {row.description for row in SEED} >= {"Project creation and deletion", "Quota change", "Python UDF"}


def test_every_seed_row_is_in_the_matrix_with_the_same_answers():
    by_key = {(row.description, row.channel): row for row in MATRIX}
    for seed in SEED:
        for channel in seed.channels:
            row = by_key.get((seed.description, channel))
            assert row is not None, f"{seed.description} on {channel} is missing from the matrix"
            assert row.owner is seed.owner, seed.description
            assert set(row.ram_roles) == set(seed.ram_roles), seed.description
            assert row.dependency.value == seed.dependency, seed.description
    seed_keys = {(seed.description, channel) for seed in SEED for channel in seed.channels}
    assert set(by_key) == seed_keys, "the matrix has rows the seed does not"


@pytest.fixture
def cast(owner):
    """The owner (with an enabled AccessKey), and one member per role in `target`, which `source`'s members
    are also authorised to reach (so that every dependency of the seed is met)."""
    issue_access_key(actor=operator_actor(owner.account), holder=owner.user, otp_code=None)
    target = Project.objects.create(account=owner.account, name="target_prj", created_by="test")
    source = Project.objects.create(account=owner.account, name="source_prj", created_by="test")
    CrossProjectAccess.objects.create(source=source, target=target, granted_by="test")
    members = {}
    for role in Role:
        person = make_ram_user(owner, role.value.replace("role_project_", "u_"), console_logon=False)
        for project in (target, source):
            member = ProjectMember.objects.create(project=project, ram_user=person.ram_user, added_by="test")
            RoleGrant.objects.create(member=member, role=role, granted_by="test")
        members[role] = person.user
    return owner, target, members


ALL_CHANNELS = tuple(Channel)


@pytest.mark.parametrize("seed", SEED, ids=[f"{row.description[:40]}" for row in SEED])
def test_decisions_match_the_seed_for_the_owner_and_each_role(cast, seed):
    owner, project, members = cast
    description_to_operation = {row.description: row.operation for row in MATRIX}
    operation = description_to_operation[seed.description]
    for channel in ALL_CHANNELS:
        if channel not in seed.channels and any(
            other.description == seed.description and channel in other.channels for other in SEED
        ):
            continue  # the seed's other line for this operation speaks for that channel
        offered = channel in seed.channels
        decision = check_permission(owner.user, project, operation, channel)
        assert decision.allowed is (offered and seed.owner), (seed.description, channel, "owner", decision.reason)
        for role, user in members.items():
            decision = check_permission(user, project, operation, channel)
            expected = offered and role in seed.ram_roles
            assert decision.allowed is expected, (seed.description, channel, role, decision.reason)
            if not expected:
                assert decision.reason


@pytest.mark.parametrize(
    "seed", [row for row in SEED if "AccessKey pair" in row.dependency], ids=lambda r: r.description
)
def test_the_access_key_dependency_is_enforced(cast, seed):
    owner, project, _ = cast
    operation = next(row.operation for row in MATRIX if row.description == seed.description)
    channel = next(iter(seed.channels))
    for key in owner.user.access_keys.all():
        set_access_key_status(actor=operator_actor(owner.account), access_key=key, is_active=False)
    decision = check_permission(owner.user, project, operation, channel)
    assert not decision.allowed
    assert "AccessKey pair is not enabled" in decision.reason


def test_cross_project_access_needs_the_owners_authorisation(cast):
    owner, target, members = cast
    CrossProjectAccess.objects.all().delete()
    developer = members[Role.DEV]
    decision = check_permission(developer, target, "cross_project_access", Channel.CONSOLE)
    assert not decision.allowed and "not authorised" in decision.reason
    assert check_permission(owner.user, target, "cross_project_access", Channel.CONSOLE).allowed


def test_a_user_without_roles_in_the_project_is_refused_everything(cast, owner):
    _, project, _ = cast
    outsider = make_ram_user(owner, "outsider", console_logon=False)
    for row in MATRIX:
        assert not check_permission(outsider.user, project, row.operation, row.channel).allowed, row.description


def test_another_accounts_project_is_refused(cast, other_owner):
    _, project, _ = cast
    decision = check_permission(other_owner.user, project, "code_view", Channel.CONSOLE)
    assert not decision.allowed and "another account" in decision.reason
