"""A catalog of implementations broken in their state: the proof that the state machine has teeth.

Each entry is our mock with exactly one defect that no single request shows: every answer still
has the right shape, so the per-request checks pass, and only an invariant that remembers what
earlier calls did (``contract_tests.stateful.invariants.INVARIANTS``) can catch it. Two
mechanisms make them:

(a) ``Rewriting`` (tests/defects_rewritten.py): the mock behind an ASGI wrapper that remembers
    what it answered and rewrites the JSON body of later answers from that memory: a stale copy
    on retrieve after an update, ``hasMore`` false while another page follows, a page's studies
    in the wrong order;
(b) ``patched`` (tests/defects_patched.py, defects_listed.py, defects_people.py): the mock with
    one method of one of its service objects (``app.state.services``: the studies service and
    its store, the users and invitations services) shadowed on that instance by a wrapper
    around the original: an update that does not move ``updatedAt``, a cancel that forgets
    ``cancelledAt``, a page whose cursor skips a study, a 404 answered as success.

Every defect is deterministic in-process and changes what an answer says, never its shape.
Each entry names the invariant that must catch it, the rule of that invariant's finding, and
whether the rule is inferred (a warning by default, a failure with ``inferred="fail"``).
``mounted`` serves every entry from one server, each under its own path prefix.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver import create_app
from tests import defects_listed as listed
from tests import defects_patched as patched
from tests import defects_people as people
from tests import defects_rewritten as rewritten
from tests.defects_rewritten import rewriting

Build = Callable[[], ASGIApp]


@dataclass(frozen=True)
class Broken:
    """One broken implementation: its single defect, and the invariant that must catch it."""

    name: str
    build: Build
    invariant: str
    rule: str
    inferred: bool = False


READS, WRITES, REFUSALS = "reads_own_writes", "writes_answer_model", "refusals_change_nothing"
LISTS, PAGES, UPDATED = "lists_match", "pages_walk", "updated_at_moves"
IDENTITY, CANCEL, MISSING = "identity_kept", "cancel_transitions", "missing_is_404"
UIDS, IDS = "uids_unique", "ids_unique"
USERS_READ, INVITE, ACCESS = "users_read_own_writes", "invite_creates", "access_switches"
FOLLOW, EMAILS = "invitations_follow", "emails_unique"
PEOPLE = frozenset({USERS_READ, INVITE, ACCESS, FOLLOW, EMAILS})
"""The invariants of the machine's users and invitations part (the others are of studies)."""
READ_YOUR_WRITES, APPLIES = "study.read-your-writes", "update.applies"
studies, selector, clinic = patched.on_studies, patched.after_selector, people.on_people

# fmt: off
CATALOG: tuple[Broken, ...] = (
    # reads: retrieve and retrieve_by_uid answer what was written
    Broken("retrieve-stale-after-update", rewriting(rewritten.stale_after_update), READS,
           READ_YOUR_WRITES),
    Broken("by-uid-forgets-assignee", rewriting(rewritten.by_uid_forgets_assignee), READS,
           READ_YOUR_WRITES),
    Broken("by-uid-answers-first-study", studies(patched.by_uid_answers_first_study), READS,
           READ_YOUR_WRITES),
    # writes: what update, cancel and uncancel answer
    Broken("update-answers-old-study", rewriting(rewritten.update_answers_old_study), WRITES,
           APPLIES),
    Broken("update-ignores-viewer-status", patched.update_drops("studyViewerStatus"), WRITES,
           APPLIES),
    Broken("update-touches-absent-severity", studies(patched.touches_absent_severity), WRITES,
           APPLIES),
    Broken("update-merges-metadata", studies(patched.merges_metadata), WRITES,
           "update.replaces-metadata", inferred=True),
    Broken("null-does-not-unassign", patched.update_drops("assignedTo", lambda v: v is None),
           WRITES, "update.null-unassign"),
    Broken("null-metadata-kept", patched.update_drops("metadata", lambda v: v is None), WRITES,
           "update.null-clear", inferred=True),
    Broken("cancel-again-without-message",
           patched.answers(patched.no_message_when_cancelled, "cancel"), WRITES,
           "cancel.idempotent", inferred=True),
    Broken("cancel-answers-success-false", patched.answers(patched.success_false, "cancel"),
           WRITES, "cancel.answers-success", inferred=True),
    # refusals change nothing
    Broken("refused-update-moves-updated-at", studies(patched.refused_update_moves_updated_at),
           REFUSALS, "refusal.changes-nothing", inferred=True),
    Broken("refused-cancel-cancels", studies(patched.refused_cancel_cancels), REFUSALS,
           "refusal.changes-nothing", inferred=True),
    # pages
    Broken("page-of-limit-plus-one", studies(listed.page_of_limit_plus_one), PAGES,
           "page.limit"),
    Broken("has-more-false-while-more-follow",
           rewriting(rewritten.has_more_false_while_more_follow), PAGES, "page.has-more"),
    Broken("has-more-true-on-last-page", rewriting(rewritten.has_more_true_on_last_page), PAGES,
           "page.has-more"),
    Broken("last-page-cursor-not-null", studies(listed.last_page_cursor), PAGES,
           "page.last-cursor", inferred=True),
    Broken("cursor-skips-a-study", listed.cursor_moved(listed.skips_one), PAGES, "page.walk",
           inferred=True),
    Broken("cursor-repeats-last-study", listed.cursor_moved(listed.repeats_last), PAGES,
           "page.walk", inferred=True),
    # lists
    Broken("severity-filter-ignores-stat", listed.ignoring("severity", "stat"), LISTS,
           "list.filters"),
    Broken("is-cancelled-false-ignored", listed.ignoring("isCancelled", "false"), LISTS,
           "list.filters"),
    Broken("list-hides-cancelled", listed.list_query_changed(listed.hiding_cancelled), LISTS,
           "list.filters"),
    Broken("unassigned-filter-ignored", listed.ignoring("assignedTo", "null"), LISTS,
           "list.filters-null", inferred=True),
    Broken("description-filter-case-sensitive", studies(listed.case_sensitive_description),
           LISTS, "list.ignores-case", inferred=True),
    Broken("list-oldest-first", rewriting(rewritten.oldest_first), LISTS, "list.order",
           inferred=True),
    # updatedAt
    Broken("update-keeps-updated-at", studies(patched.update_keeps_updated_at), UPDATED,
           "update.moves-updatedAt", inferred=True),
    Broken("noop-update-moves-updated-at", studies(patched.noop_update_moves_updated_at),
           UPDATED, "update.moves-updatedAt", inferred=True),
    Broken("cancel-twice-moves-updated-at", selector("cancel", patched.touches_again), UPDATED,
           "cancel.idempotent", inferred=True),
    Broken("uncancel-twice-moves-updated-at", selector("uncancel", patched.touches_again),
           UPDATED, "uncancel.idempotent", inferred=True),
    # identity
    Broken("update-moves-created-at", studies(patched.update_moves_created_at), IDENTITY,
           "update.keeps-identity", inferred=True),
    # cancel and uncancel
    Broken("cancel-forgets-cancelled-at", selector("cancel", patched.forgets_cancelled_at),
           CANCEL, "cancel.sets-cancelled"),
    Broken("cancelled-at-is-created-at", selector("cancel", patched.cancelled_at_created_at),
           CANCEL, "cancel.times", inferred=True),
    Broken("cancel-twice-moves-cancelled-at", selector("cancel", patched.cancels_again),
           CANCEL, "cancel.idempotent", inferred=True),
    Broken("uncancel-keeps-cancelled-at", selector("uncancel", patched.keeps_cancelled_at),
           CANCEL, "uncancel.clears-cancelled", inferred=True),
    Broken("uncancel-leaves-it-cancelled", selector("uncancel", patched.stays_cancelled),
           CANCEL, "uncancel.clears-cancelled", inferred=True),
    # what nobody created is 404
    Broken("retrieve-missing-answers-newest", patched.answers_newest_when_missing("retrieve"),
           MISSING, "study.not-found", inferred=True),
    Broken("by-uid-missing-answers-newest",
           patched.answers_newest_when_missing("retrieve_by_uid"), MISSING, "study.not-found",
           inferred=True),
    Broken("update-missing-answers-newest", studies(patched.update_missing_answers_newest),
           MISSING, "update.not-found"),
    Broken("cancel-missing-succeeds", patched.succeeds_when_missing("cancel"), MISSING,
           "selector.not-found", inferred=True),
    # UIDs and ids
    Broken("taken-uid-accepted", studies(patched.accepts_taken_uid), UIDS, "create.uid-taken",
           inferred=True),
    Broken("refused-create-overwrites-first", studies(patched.refused_create_overwrites), UIDS,
           "create.uid-taken", inferred=True),
    Broken("ids-reused", studies(patched.reuses_ids), IDS, "studyId.unique", inferred=True),
    # users and invitations
    Broken("user-update-ignores-clinic-role", people.user_update_drops("clinicRole"),
           USERS_READ, "userUpdate.applies"),
    Broken("invitation-names-the-owner", clinic(people.invitation_of_owner), INVITE,
           "invite.creates-invitation", inferred=True),
    Broken("revoke-access-keeps-access", clinic(people.revoke_keeps_access), ACCESS,
           "revokeAccess.idempotent", inferred=True),
    Broken("reactivate-again-without-message", clinic(people.reactivate_again_silent), ACCESS,
           "reactivate.idempotent", inferred=True),
    Broken("revoked-invitation-stays-sent", clinic(people.revoke_leaves_sent), FOLLOW,
           "invitationRevoke.sets-revoked", inferred=True),
    Broken("user-update-misses-invitation", clinic(people.user_update_not_followed), FOLLOW,
           "userUpdate.updates-invitation", inferred=True),
    Broken("invitation-update-misses-user", clinic(people.invitation_update_not_followed),
           FOLLOW, "invitationUpdate.updates-user", inferred=True),
    Broken("email-taken-case-sensitive", clinic(people.email_case_sensitive), EMAILS,
           "invite.email-taken", inferred=True),
)
# fmt: on


# --- every entry from one server -------------------------------------------------------------


@dataclass
class Mounted:
    """One ASGI app that serves each of ``apps`` under the path prefix ``/<its name>`` (the
    prefix is cut off the path the app sees); any other path is a 404."""

    apps: dict[str, ASGIApp]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        name, _, rest = scope["path"].partition("/")[2].partition("/")
        app = self.apps.get(name)
        if app is None:
            await send({"type": "http.response.start", "status": 404, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        path = "/" + rest
        await app({**scope, "path": path, "raw_path": path.encode()}, receive, send)


async def _lifespan(receive: Receive, send: Send) -> None:
    """Start and stop at once: the apps need no start-up."""
    while True:
        message = await receive()
        kind = message["type"].removeprefix("lifespan.")
        await send({"type": f"lifespan.{kind}.complete"})
        if kind == "shutdown":
            return


def mounted(entries: Sequence[Broken], correct: str) -> Mounted:
    """Every entry under ``/<its name>``, and the correct mock under ``/<correct>``."""
    return Mounted({correct: create_app(), **{entry.name: entry.build() for entry in entries}})


CORRECT = "correct"


def serve_all() -> Mounted:
    """Every entry, and the correct mock under ``/correct``: ``uvicorn --factory
    tests.catalog_stateful:serve_all`` serves them all from one server."""
    return mounted(CATALOG, CORRECT)
