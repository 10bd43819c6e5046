"""Who may do what: pure predicates on users and organisations (no database, no request).

``user`` is None for an anonymous visitor; ``managers`` is the collection of user ids that
manage the organisation. Only confirmed accounts may write. Domain verbs call these and raise
:class:`~clusteratlas.collaboration.PermissionDenied`; the state checks (can a draft be
published?) are the verbs' business, not the predicates'.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from clusteratlas.collaboration.models import Organisation, SavedSearch, User

__all__ = [
    "can_create_organisation",
    "can_delete_saved_search",
    "can_edit_organisation",
    "can_follow_post",
    "can_link_organisation",
    "can_manage_posts",
    "can_manage_managers",
    "can_moderate",
    "can_review_organisation",
    "can_save_search",
    "can_see_recommendations",
    "can_view_contacts",
    "can_view_organisation",
    "can_view_history",
    "can_view_post",
    "is_member",
]


def is_member(user: User | None) -> bool:
    """A signed-in user with a confirmed e-mail address."""
    return user is not None and user.confirmed_at is not None


def can_view_contacts(user: User | None) -> bool:
    """Contacts on profiles are shown to signed-in members only."""
    return is_member(user)


def can_moderate(user: User | None) -> bool:
    """Moderators and administrators review submitted profiles."""
    return (
        user is not None
        and user.confirmed_at is not None
        and bool(user.is_moderator or user.is_admin)
    )


def can_create_organisation(user: User | None) -> bool:
    return is_member(user)


def can_edit_organisation(
    user: User | None, organisation: Organisation, managers: Collection[int]
) -> bool:
    """The organisation's managers and administrators."""
    return (
        user is not None
        and user.confirmed_at is not None
        and (bool(user.is_admin) or user.id in managers)
    )


def can_manage_managers(
    user: User | None, organisation: Organisation, managers: Collection[int]
) -> bool:
    """Who may add managers: whoever may edit the profile."""
    return can_edit_organisation(user, organisation, managers)


def can_review_organisation(
    user: User | None, organisation: Organisation, managers: Collection[int]
) -> bool:
    """Publish or send back: a moderator who does not manage the organisation (no one reviews
    their own profile), or an administrator."""
    return (
        user is not None and can_moderate(user) and (bool(user.is_admin) or user.id not in managers)
    )


def can_view_organisation(
    user: User | None, organisation: Organisation, managers: Collection[int]
) -> bool:
    """Published profiles are public; others are seen by their managers, moderators and
    administrators."""
    if organisation.status == "published":  # OrganisationStatus is a StrEnum
        return True
    return can_edit_organisation(user, organisation, managers) or can_moderate(user)


def can_link_organisation(
    user: User | None, organisation: Organisation, managers: Collection[int]
) -> bool:
    """Link an organisation to another (member of, partner of) or remove its links: whoever
    may edit the (source) organisation's profile."""
    return can_edit_organisation(user, organisation, managers)


def can_view_history(
    user: User | None, organisation: Organisation, managers: Collection[int]
) -> bool:
    """A profile's published versions: whoever may see the profile."""
    return can_view_organisation(user, organisation, managers)


# -- posts --
# ``managers`` are the ids of the managers of the post's organisation. Whether the organisation
# is published and the post still open is the verbs' business (lifecycle); :func:`can_view_post`
# is told whether the post is open.


def can_manage_posts(user: User | None, managers: Collection[int]) -> bool:
    """Create, edit and close an organisation's posts, see who is interested: its confirmed
    managers and administrators."""
    return is_member(user) and user is not None and (bool(user.is_admin) or user.id in managers)


def can_follow_post(user: User | None, managers: Collection[int]) -> bool:
    """Follow a post or express interest in it: members, not on their own organisation's
    posts."""
    return is_member(user) and user is not None and user.id not in managers


def can_view_post(
    user: User | None, organisation: Organisation, managers: Collection[int], *, is_open: bool
) -> bool:
    """Open posts of published organisations are public; closed or expired ones (and posts of
    unpublished organisations) are seen by the organisation's managers and administrators."""
    if is_open and organisation.status == "published":  # OrganisationStatus is a StrEnum
        return True
    return can_manage_posts(user, managers)


def can_save_search(user: User | None) -> bool:
    """Save a search (and receive its new matches by e-mail): members."""
    return is_member(user)


def can_delete_saved_search(user: User | None, saved_search: SavedSearch) -> bool:
    """Delete a saved search: its owner, or an administrator."""
    return (
        is_member(user)
        and user is not None
        and (bool(user.is_admin) or saved_search.user_id == user.id)
    )


def can_see_recommendations(user: User | None, managers: Collection[int]) -> bool:
    """ "Partners for you" of an organisation: its confirmed managers and administrators."""
    return is_member(user) and user is not None and (bool(user.is_admin) or user.id in managers)
