"""A RAM user's effective system policies: its own and its groups'. This module is the one place that computes them
(projects.rights does the same for project roles); the permission checks, the pages, the delivery sheets and both
APIs read them here, and can say where each comes from ("via group data-eng")."""

from collections.abc import Iterable

from django.db.models import CharField, F, Value
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from accounts.models import GroupPolicyAttachment, PolicyAttachment, User

DIRECT = ""  # the source of a right held by the user itself; any other source is a group's name

type Sources = tuple[str, ...]  # DIRECT first, then group names in order


def policy_sources_of(ram_user_ids: Iterable[int]) -> dict[int, dict[str, Sources]]:
    """By RAM user ID: each effective policy and where it comes from. One query (own and groups' together)."""
    ids = list(ram_user_ids)
    found: dict[int, dict[str, list[str]]] = {ram_user_id: {} for ram_user_id in ids}
    if not ids:
        return {}
    own = (
        PolicyAttachment.objects.filter(ram_user_id__in=ids)
        .annotate(holder=F("ram_user_id"), source=Value(DIRECT, output_field=CharField()))
        .values_list("holder", "policy_name", "source")
        .order_by()
    )
    via_groups = (
        GroupPolicyAttachment.objects.filter(group__memberships__ram_user_id__in=ids)
        .annotate(holder=F("group__memberships__ram_user_id"), source=F("group__name"))
        .values_list("holder", "policy_name", "source")
        .order_by()
    )
    for holder, policy_name, source in own.union(via_groups, all=True):
        found[holder].setdefault(policy_name, []).append(source)
    return {
        holder: {name: tuple(sorted(sources)) for name, sources in sorted(policies.items())}
        for holder, policies in found.items()
    }


_CACHE = "_effective_policy_sources"


def policy_sources(user: User) -> dict[str, Sources]:
    """The user's effective policies and their sources (none for the owner, who needs none). Cached on the instance:
    one query per request however many checks a page makes (the model does not declare the attribute: it is this
    module's cache, read and written by name)."""
    if user.is_owner:
        return {}
    cached: dict[str, Sources] | None = getattr(user, _CACHE, None)
    if cached is None:
        cached = policy_sources_of([user.ram_user.pk]).get(user.ram_user.pk, {})
        setattr(user, _CACHE, cached)
    return cached


def effective_policy_names(user: User) -> frozenset[str]:
    return frozenset(policy_sources(user))


def source_words(sources: Sources) -> str:
    """Where a right comes from, in words: "" when only the user holds it, else "via group a, group b" (with "and
    directly" first when it holds it itself too)."""
    groups = [source for source in sources if source != DIRECT]
    if not groups:
        return ""
    # Worded in the active language (a page's, a sheet's): a caller that answers a program (the MaxCompute endpoint's
    # "show grants") calls it while English is active.
    named = pgettext("between the items of a list", ", ").join(_("group %(name)s") % {"name": name} for name in groups)
    if DIRECT in sources:
        # Translators: where a policy or project role comes from, shown after it in brackets: "(directly and via
        # group data-eng, group ops)".
        return _("directly and via %(groups)s") % {"groups": named}
    # Translators: where a policy or project role comes from, shown after it in brackets: "(via group data-eng)".
    return _("via %(groups)s") % {"groups": named}
