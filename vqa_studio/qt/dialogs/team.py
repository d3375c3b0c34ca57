"""Team dialogs: open a project on a team server (File ▸ Open team server…), the annotator's name
(Review ▸ Annotator name…, kept in the settings; default: the login name) and the team statistics
(Review ▸ Team statistics…: per-annotator counts and agreement, read in the background)."""
from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core.errors import VQAStudioError
from ...core.project import default_annotator
from .common import show_error

ANNOTATOR_KEY = "review/annotator"
URL_KEY = "team/url"
FOLDER_KEY = "team/folder"


def annotator_name(settings) -> str:
    """The annotator's name from the settings, else the login name."""
    name = str(settings.value(ANNOTATOR_KEY, "") or "").strip()
    return name or default_annotator()


class TeamServerDialog(QDialog):
    """A database URL (PostgreSQL), the local folder for the team project's files, the annotator's name."""

    def __init__(self, settings, parent=None):
        super().__init__(parent)
        self.settings = settings
        self.setWindowTitle("Open a team server")
        intro = QLabel("Several annotators review one project on a PostgreSQL server: each question on screen is "
                       "claimed, and an edit of a question someone changed meanwhile shows both answers.")
        intro.setWordWrap(True)
        self.url = QLineEdit(str(settings.value(URL_KEY, "") or ""))
        self.url.setPlaceholderText("postgresql://user@host:5432/database")
        self.folder = QLineEdit(str(settings.value(FOLDER_KEY, "") or ""))
        self.folder.setPlaceholderText("default: a folder in your data folder, one per server")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.folder, 1)
        row.addWidget(browse)
        folder_box = QWidget()
        folder_box.setLayout(row)
        row.setContentsMargins(0, 0, 0, 0)
        self.annotator = QLineEdit(annotator_name(settings))
        self.create = QCheckBox("Make a new project if the database is empty")
        form = QFormLayout()
        form.addRow("Database URL:", self.url)
        form.addRow("Local folder:", folder_box)
        form.addRow("Your name:", self.annotator)
        form.addRow("", self.create)
        buttons = QDialogButtonBox(QDialogButtonBox.Open | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(intro)
        lay.addLayout(form)
        lay.addWidget(buttons)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder for the team project's files")
        if folder:
            self.folder.setText(folder)

    def _accept(self) -> None:
        if "://" not in self.url.text():
            show_error(self, "Open a team server", "Give the database URL, e.g. postgresql://user@host/database")
            return
        if not self.annotator.text().strip():
            show_error(self, "Open a team server", "Give your name: it is stored with every correction")
            return
        self.settings.setValue(URL_KEY, self.url.text().strip())
        self.settings.setValue(FOLDER_KEY, self.folder.text().strip())
        self.settings.setValue(ANNOTATOR_KEY, self.annotator.text().strip())
        self.accept()


def open_team(window, url: str, folder: str | None = None, create: bool = False) -> bool:
    """Connect to the team project at ``url`` and show it in ``window``; a failure is a message."""
    from ...core.team import connect

    try:
        project = connect(url, folder or None, create=create)
    except VQAStudioError as exc:
        show_error(window, "Cannot open the team project", str(exc))
        return False
    except Exception as exc:  # noqa: BLE001 - an unreachable server, a bad URL: say so, keep running
        from ...core.project import Project

        show_error(window, "Cannot open the team project", Project.fault_message(exc) or f"{type(exc).__name__}: {exc}")
        return False
    return window.set_project(project)


def open_team_dialog(window) -> bool:
    dlg = TeamServerDialog(window.settings, window)
    if dlg.exec() != QDialog.Accepted:
        return False
    return open_team(window, dlg.url.text().strip(), dlg.folder.text().strip() or None, dlg.create.isChecked())


def ask_annotator(window) -> None:
    """Review ▸ Annotator name…: the name stored with every correction from now on."""
    name, ok = QInputDialog.getText(window, "Annotator name", "Your name (stored with every correction):",
                                    text=annotator_name(window.settings))
    if ok and name.strip():
        window.settings.setValue(ANNOTATOR_KEY, name.strip())
        if window.project is not None:
            window.project.annotator = name.strip()


class TeamStatsDialog(QDialog):
    """Per-annotator statistics and agreement (``core.team_stats``), read in the background."""

    COLUMNS = ("Annotator", "Corrections", "Questions", "Shared", "Soft score", "Agreement", "Per hour")

    def __init__(self, project, runner, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Team statistics")
        self.summary = QLabel("Reading the history…")
        self.summary.setWordWrap(True)
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        close = QDialogButtonBox(QDialogButtonBox.Close)
        close.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.summary)
        lay.addWidget(self.table)
        lay.addWidget(close)
        self.resize(720, 360)
        self.stats = None
        from ...core.team_stats import team_stats

        runner.submit(team_stats, project, on_done=self.show_stats,
                      on_error=lambda e: self.summary.setText(f"Cannot read the statistics: {e}"))

    def show_stats(self, st) -> None:
        self.stats = st
        lines = st.lines()
        self.summary.setText("<br>".join(lines[1:5]))
        self.table.setRowCount(len(st.annotators))
        for r, a in enumerate(st.annotators):
            cells = (a.annotator, str(a.corrections), str(a.questions), str(a.shared), _num(a.soft_score),
                     _num(a.agreement), _num(a.per_hour, "{:.0f}"))
            for c, text in enumerate(cells):
                self.table.setItem(r, c, QTableWidgetItem(text))


def _num(x, fmt: str = "{:.3f}") -> str:
    return "–" if x is None else fmt.format(x)


def show_team_stats(window) -> TeamStatsDialog | None:
    if window.project is None:
        return None
    dlg = TeamStatsDialog(window.project, window.bg, window)
    window.team_stats_dialog = dlg
    dlg.open()
    return dlg
