"""Offline-first sync: a station's local store and the lab server it pushes to.

A station always writes to its own SQLite store first (:class:`Lab`), queues the session in
an outbox and pushes it to the lab server when it can (:meth:`Lab.sync`). Sessions are keyed
by a UUID, and the push is an insert-if-absent in one transaction per session, so a server
that is down, or drops in the middle of a sync, loses nothing and duplicates nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.lab.database import StoreError, mask_url, parse_url
from sim.lab.ingest import NewSession
from sim.lab.store import Store


@dataclass(frozen=True, slots=True)
class SyncReport:
    """What a sync did: sessions pushed, found already there, still waiting; the error
    (masked) that stopped it, if any."""

    pushed: int
    already: int
    pending: int
    error: str | None = None
    conflicts: int = 0

    def line(self) -> str:
        base = f"{self.pushed} pushed, {self.already} already there, {self.pending} waiting"
        if self.conflicts:
            base += (
                f"; {self.conflicts} held back: the server has a different recording with "
                "the same session id (import the file with --replace to overwrite it)"
            )
        return base + (f" ({self.error})" if self.error else "")


class Lab:
    """A station's stores: the local SQLite store, always written, and an optional lab
    server that sessions are pushed to (:meth:`sync`) when it can be reached.

    Parameters
    ----------
    local_url : str
        This machine's store (SQLite).
    remote_url : str or None
        The lab server; None (or the same URL as ``local_url``) keeps everything local.
    """

    def __init__(self, local_url: str, remote_url: str | None = None) -> None:
        self.local_url = local_url
        self.local = Store(local_url)
        same = remote_url is None or mask_url(parse_url(remote_url)) == self.local.display_url
        self.remote_url = None if same else remote_url
        self.remote_display = mask_url(parse_url(self.remote_url)) if self.remote_url else None

    def close(self) -> None:
        self.local.close()

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def record(
        self, session: NewSession, *, sync: bool = True, replace: bool = False
    ) -> tuple[bool, SyncReport | None]:
        """Store a session locally, queue it for the lab server and try to push it.

        ``replace`` stores it in place of a session with the same id, here and on the
        server (a re-scored recording); without it a stored session is never touched.

        Returns
        -------
        (bool, SyncReport or None)
            Whether the session was new locally; the sync attempt (None without a server or
            with ``sync=False``).
        """
        new = self.local.replace(session) is None if replace else self.local.add(session)
        if self.remote_url is None:
            return new, None
        self.local.queue(session.id, replace=replace)
        return new, (self.sync() if sync else None)

    def open_remote(self) -> Store:
        """The lab server's store (raises :class:`StoreUnavailable` when unreachable)."""
        if self.remote_url is None:
            return self.local
        return Store(self.remote_url)

    def sync(self) -> SyncReport:
        """Push every queued session to the lab server; safe to repeat and to interrupt.

        Each session goes in its own transaction as an insert-if-absent keyed by its UUID,
        and leaves the outbox only after that transaction committed. A session the server
        holds with a different recording stays queued and is counted in ``conflicts``,
        unless it was queued to replace the server's copy. A session whose commit
        reached the server but whose outbox entry survived (a drop at that very moment) is
        found already there on the next sync: nothing is lost or duplicated.
        """
        todo = self.local.pending()
        if self.remote_url is None or not todo:
            return SyncReport(0, 0, len(todo))
        pushed = already = conflicts = 0
        try:
            remote = Store(self.remote_url)
        except StoreError as exc:
            return SyncReport(0, 0, len(todo), str(exc))
        try:
            for sid in todo:
                session = self.local.export(sid)
                try:
                    if self.local.replacing(sid):
                        remote.replace(session)
                        added = True
                    else:
                        added = remote.add(session)
                        if (
                            not added
                            and remote.recording_sha256(sid) != (session.row["recording_sha256"])
                        ):
                            # same id, other recording: never overwritten without --replace
                            self.local.note_attempt(sid, "server has a different recording")
                            conflicts += 1
                            continue
                except StoreError as exc:
                    self.local.note_attempt(sid, str(exc))
                    return SyncReport(
                        pushed, already, len(self.local.pending()), str(exc), conflicts
                    )
                self.local.dequeue(sid)
                if added:
                    pushed += 1
                else:
                    already += 1
        finally:
            remote.close()
        return SyncReport(pushed, already, len(self.local.pending()), None, conflicts)
