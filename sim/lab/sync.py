"""Offline-first sync: a station's local store and the lab server it pushes to.

A station always writes to its own SQLite store first (:class:`Lab`), queues the session in
an outbox and pushes it to the lab server when it can (:meth:`Lab.sync`). Sessions are keyed
by a UUID, and the push is an insert-if-absent in one transaction per session, so a server
that is down, or drops in the middle of a sync, loses nothing and duplicates nothing. An
entry the server keeps refusing is set aside (it does not hold back the others); a session
the server holds under another trainee or station is reported and set aside, never kept
silently. Before pushing, a sync applies the server's erasures (tombstones) here: the
trainee's sessions and recording files go. At start a station stores the recordings that a
crash left unstored (:meth:`Lab.recover`), and erases recordings older than its retention
period (:meth:`Lab.apply_retention`).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from sim.lab.database import StoreError, StoreUnavailable, mask_url, parse_url
from sim.lab.ingest import NewSession
from sim.lab.schema import utc_now
from sim.lab.store import MAX_ATTEMPTS, Store
from sim.storage.recording import session_id_for


@dataclass(frozen=True, slots=True)
class SyncReport:
    """What a sync did: sessions pushed, found already there, still waiting; the error
    (masked) that stopped it, if any; the entries set aside by this sync and the sessions
    in disagreement with the server (one line each); the sessions erased here by the
    server's tombstones."""

    pushed: int
    already: int
    pending: int
    error: str | None = None
    conflicts: int = 0
    set_aside: tuple[str, ...] = ()
    disagreements: tuple[str, ...] = ()
    erased: int = 0

    def line(self) -> str:
        base = f"{self.pushed} pushed, {self.already} already there, {self.pending} waiting"
        if self.erased:
            base += f", {self.erased} erased here (the lab erased their trainee)"
        if self.set_aside:
            base += f", {len(self.set_aside)} set aside"
        if self.conflicts:
            base += (
                f"; {self.conflicts} held back: the server has a different recording with "
                "the same session id (import the file with --replace to overwrite it)"
            )
        return base + (f" ({self.error})" if self.error else "")


@dataclass
class _Tally:
    pushed: int = 0
    already: int = 0
    conflicts: int = 0
    set_aside: list[str] = field(default_factory=list)
    disagreements: list[str] = field(default_factory=list)
    erased: int = 0


_NO_ID = session_id_for({}, b"")


def _file_session(path: Path) -> tuple[str, dict[str, object]] | None:
    """(session id, header) of a recording file; None if it is not one. Reads the header
    line, and the whole file only when the header names no session id."""
    try:
        with path.open("rb") as f:
            head = json.loads(f.readline())
    except (OSError, ValueError):
        return None
    if not isinstance(head, dict) or head.get("type") != "header":
        return None
    sid = session_id_for(head, b"")
    if sid == _NO_ID:  # no id in the header: derived from the bytes
        try:
            sid = session_id_for(head, path.read_bytes())
        except OSError:
            return None
    return sid, head


def _created(head: dict[str, object]) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(str(head.get("created_utc")), "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return None


class Lab:
    """A station's stores: the local SQLite store, always written, and an optional lab
    server that sessions are pushed to (:meth:`sync`) when it can be reached.

    Parameters
    ----------
    local_url : str
        This machine's store (SQLite).
    remote_url : str or None
        The lab server; None (or the same URL as ``local_url``) keeps everything local.
    recordings : Path or None
        This station's recordings folder (default :func:`sim.paths.recordings_dir`): files
        erased with their trainee or by the retention period, and found after a crash.
    retention_days : int or None
        The station config's retention period (None: recordings are kept).
    keep_raw : bool
        The station config's ``keep_raw_landmarks`` (for recordings stored by :meth:`recover`).
    """

    def __init__(
        self,
        local_url: str,
        remote_url: str | None = None,
        *,
        recordings: Path | None = None,
        retention_days: int | None = None,
        keep_raw: bool = False,
    ) -> None:
        from sim.paths import recordings_dir

        self.local_url = local_url
        self.local = Store(local_url)
        same = remote_url is None or mask_url(parse_url(remote_url)) == self.local.display_url
        self.remote_url = None if same else remote_url
        self.remote_display = mask_url(parse_url(self.remote_url)) if self.remote_url else None
        self.recordings = recordings if recordings is not None else recordings_dir()
        self.retention_days = retention_days
        self.keep_raw = keep_raw

    def twin(self) -> Lab:
        """A new :class:`Lab` on the same stores and settings (own connections, for a
        background thread)."""
        return Lab(
            self.local_url,
            self.remote_url,
            recordings=self.recordings,
            retention_days=self.retention_days,
            keep_raw=self.keep_raw,
        )

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

    # -- files of this station --
    def delete_recording_files(
        self, ids: set[str], trainee: str | None = None, before: dt.datetime | None = None
    ) -> int:
        """Delete this station's recording files of the sessions ``ids``, and (with
        ``trainee``) every file of that trainee made at or before ``before``. Returns how
        many were deleted."""
        n = 0
        if not self.recordings.is_dir():
            return 0
        for path in sorted(self.recordings.glob("*.jsonl")):
            found = _file_session(path)
            if found is None:
                continue
            sid, head = found
            made = _created(head)
            mine = trainee is not None and str(head.get("trainee") or "").strip() == trainee
            if sid in ids or (mine and (before is None or made is None or made <= before)):
                path.unlink(missing_ok=True)
                n += 1
        return n

    def apply_retention(self, now: dt.datetime | None = None) -> int:
        """Erase the recordings of sessions started more than ``retention_days`` ago: in
        the local store (scores and metrics stay) and the recording files. Returns how many
        sessions' recordings were erased from the store."""
        if self.retention_days is None:
            return 0
        cutoff = (now or utc_now()) - dt.timedelta(days=self.retention_days)
        ids = self.local.erase_recordings_before(cutoff)
        if self.recordings.is_dir():
            for path in sorted(self.recordings.glob("*.jsonl")):
                found = _file_session(path)
                made = _created(found[1]) if found else None
                if made is not None and made < cutoff:
                    path.unlink(missing_ok=True)
        return len(ids)

    def recover(self, station: str) -> list[str]:
        """Store the recordings in this station's folder that are not in the store (a crash
        before the session was stored; a recording without its end is stored incomplete).
        Files of an erased trainee, and files that cannot be read, are left alone (the
        latter reported on stderr). Returns the ids stored."""
        from sim.errors import UserError
        from sim.lab.ingest import session_from_recording

        if not self.recordings.is_dir():
            return []
        have = self.local.ids()
        erased = self.local.tombstones()
        out: list[str] = []
        for path in sorted(self.recordings.glob("*.jsonl")):
            found = _file_session(path)
            if found is None or found[0] in have:
                continue
            head = found[1]
            made = _created(head)
            tr = str(head.get("trainee") or "").strip()
            if any(t == tr and (made is None or made <= when) for t, when in erased):
                continue
            try:
                s = session_from_recording(path, station=station, keep_raw=self.keep_raw)
            except (UserError, ValueError) as exc:
                print(f"procsim: warning: {path}: not stored ({exc})", file=sys.stderr)
                continue
            self.record(s, sync=False)
            have.add(s.id)
            out.append(s.id)
        return out

    # -- sync --
    def _apply_tombstones(self, remote: Store, tally: _Tally) -> None:
        mine = set(self.local.tombstones())
        for trainee, when in remote.tombstones():
            if (trainee, when) in mine:
                continue
            ids = self.local.apply_tombstone(trainee, when)
            self.delete_recording_files(set(ids), trainee, when)
            tally.erased += len(ids)

    def _disagreement(self, theirs: tuple[str, str, str], session: NewSession) -> str | None:
        """A line if the server holds this session (``theirs``: :meth:`Store.digest`)
        under another trainee or station."""
        here = (str(session.row["trainee_id"]), str(session.row["station_id"]))
        there = theirs[:2]
        if here == there:
            return None
        what = [
            f"{k} {a!r} here, {b!r} on the server"
            for k, a, b in zip(("trainee", "station"), here, there, strict=True)
            if a != b
        ]
        return f"session {session.id}: {'; '.join(what)}"

    def sync(self) -> SyncReport:
        """Apply the server's erasures here, then push every queued session to it; safe to
        repeat and to interrupt.

        Each session goes in its own transaction as an insert-if-absent keyed by its UUID,
        and leaves the outbox only after that transaction committed. A session the server
        holds with a different recording stays queued and is counted in ``conflicts``,
        unless it was queued to replace the server's copy; one it holds under another
        trainee or station is set aside and reported (``disagreements``). An entry the
        server refuses :data:`~sim.lab.store.MAX_ATTEMPTS` times is set aside with its
        error; the others go on. An unreachable server stops the sync (nothing is counted
        against the entries). A session whose commit reached the server but whose outbox
        entry survived (a drop at that very moment) is found already there on the next
        sync: nothing is lost or duplicated.
        """
        self.apply_retention()
        if self.remote_url is None:
            return SyncReport(0, 0, len(self.local.pending()))
        tally = _Tally()
        try:
            remote = Store(self.remote_url)
        except StoreError as exc:
            return SyncReport(0, 0, len(self.local.pending()), str(exc))
        try:
            try:
                self._apply_tombstones(remote, tally)
            except StoreUnavailable as exc:
                return self._report(tally, str(exc))
            for sid in self.local.pending():
                try:
                    self._push(remote, sid, tally)
                except StoreUnavailable as exc:
                    return self._report(tally, str(exc))
        finally:
            remote.close()
        return self._report(tally, None)

    def _push(self, remote: Store, sid: str, tally: _Tally) -> None:
        session = self.local.export(sid)
        try:
            if self.local.replacing(sid):
                remote.replace_pushed(session)
                added = True
            else:
                added = remote.add(session)
                if not added:
                    theirs = remote.digest(sid)
                    if theirs is None or theirs[2] != session.row["recording_sha256"]:
                        # same id, other recording: never overwritten without --replace
                        self.local.note_attempt(sid, "server has a different recording")
                        tally.conflicts += 1
                        return
                    line = self._disagreement(theirs, session)
                    if line is not None:
                        self.local.set_aside(sid, f"disagrees with the server: {line}")
                        tally.disagreements.append(line)
                        tally.set_aside.append(sid)
                        return
        except StoreUnavailable:
            raise
        except StoreError as exc:
            self.local.note_attempt(sid, str(exc))
            if self.local.attempts(sid) >= MAX_ATTEMPTS:
                self.local.set_aside(sid, str(exc))
                tally.set_aside.append(sid)
            return
        self.local.dequeue(sid)
        if added:
            tally.pushed += 1
        else:
            tally.already += 1

    def _report(self, tally: _Tally, error: str | None) -> SyncReport:
        return SyncReport(
            tally.pushed,
            tally.already,
            len(self.local.pending()),
            error,
            tally.conflicts,
            tuple(tally.set_aside),
            tuple(tally.disagreements),
            tally.erased,
        )
