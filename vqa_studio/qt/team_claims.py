"""Claims in the app (a project on a team server): the question on screen is claimed (a lease), the
lease is renewed while it stays open and released when the annotator moves on or closes the project.
A question someone else holds is said in the status bar, and auto-advance passes it by. The claims
go through the window's one writer thread, in order with the review writes."""
from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from ..core.team import is_shared


class ClaimKeeper(QObject):
    held_elsewhere = Signal(int, str)  # question id, who holds it

    def __init__(self, project, writer, annotator: str, parent=None):
        super().__init__(parent)
        self.project = project
        self.writer = writer
        self.team = project.team(annotator)
        self.current: int | None = None
        self.elsewhere: dict[int, str] = {}  # question id -> holder, as last seen
        self.timer = QTimer(self)
        self.timer.setInterval(max(1000, int(self.team.lease_s * 1000 / 3)))
        self.timer.timeout.connect(self.renew)
        self.timer.start()

    @staticmethod
    def wanted(project) -> bool:
        return is_shared(project)

    def show(self, question_id: int | None) -> None:
        """The annotator is now on ``question_id`` (None: on nothing): release the one before, claim this."""
        if question_id == self.current:
            return
        before, self.current = self.current, question_id
        if before is not None:
            self.writer.submit(self.team.release, [before])
        if question_id is not None:
            self.writer.submit(self.team.claim, question_id, on_done=self._claimed)

    def _claimed(self, claim) -> None:
        if claim is None:
            return
        if claim.annotator != self.team.annotator:
            self.elsewhere[claim.question_id] = claim.annotator
            self.held_elsewhere.emit(claim.question_id, claim.annotator)
        else:
            self.elsewhere.pop(claim.question_id, None)

    def renew(self) -> None:
        if self.current is not None:
            self.writer.submit(self.team.renew, [self.current])

    def release_all(self) -> None:
        self.timer.stop()
        self.current = None
        self.writer.submit(self.team.release)
