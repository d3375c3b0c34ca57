"""The queue and the item shown: the table's selection and scrolling, the item's page (image, or a
page per media kind), progress, the similar items, and what a written review changes on screen."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from ...core.types import Status
from ..widgets.queue_model import TO_REVIEW, QueueQuery


class CurrentItemMixin:
    """Follows ``controller.current``: shows it in its page of ``stack``, keeps the queue's selection
    on it, and asks for the similar items once the annotator stays on it a moment."""

    def _make_timers(self) -> None:
        self._scroll_timer = QTimer(self)
        self._scroll_timer.setSingleShot(True)
        self._scroll_timer.setInterval(90)
        self._scroll_timer.timeout.connect(self._scroll_ahead)
        self._similar_timer = QTimer(self)
        self._similar_timer.setSingleShot(True)
        self._similar_timer.setInterval(120)
        self._similar_timer.timeout.connect(self._request_similar)
        self._counts_timer = QTimer(self)
        self._counts_timer.setSingleShot(True)
        self._counts_timer.setInterval(800)
        self._counts_timer.timeout.connect(self._refresh_counts)

    def _query_changed(self, query: QueueQuery) -> None:
        if self.model is None or self.controller is None:
            return
        self.controller.advance_statuses = query.filters.statuses or TO_REVIEW
        self.answer_panel.order_by = query.order_by or self.model.order_by
        self.model.set_query(query)

    def _queue_loaded(self) -> None:
        if self.queue_dock_widget is not None:
            self.queue_dock_widget.update_count()
        self._update_progress()

    def _table_row_changed(self, current, _previous) -> None:
        if self._selecting or self.controller is None or not current.isValid():
            return
        if current.row() != self.controller.current_row:
            self.controller.go_to_row(current.row())

    def _select_row(self, row: int) -> None:
        dock = self.queue_dock_widget
        if dock is None or row < 0:
            return
        self._selecting = True
        try:
            table = dock.table
            # scroll only when the row leaves the view, and then put it near the top: the next
            # items are then already visible and need no scrolling (a scroll repaints the table)
            sb = table.verticalScrollBar()
            h = table.verticalHeader().defaultSectionSize()
            y = table.rowViewportPosition(row)
            if y < 0 or y > table.viewport().height() - h:
                sb.setValue(max(0, (row - 1) * h))  # out of view: bring it in near the top
            sel = table.selectionModel()
            sel.setCurrentIndex(self.model.index(row, 1), sel.SelectionFlag.ClearAndSelect | sel.SelectionFlag.Rows)
            self._scroll_timer.start()
        finally:
            self._selecting = False

    def _scroll_ahead(self) -> None:
        """Between two items (not while one is being shown): when the current row nears the bottom
        of the queue view, scroll it up to the top, so the next items are already in view."""
        dock, c = self.queue_dock_widget, self.controller
        if dock is None or c is None or c.current_row < 0:
            return
        table = dock.table
        h = table.verticalHeader().defaultSectionSize()
        y = table.rowViewportPosition(c.current_row)
        if y > table.viewport().height() - 3 * h:
            table.verticalScrollBar().setValue(max(0, (c.current_row - 1) * h))

    def _show_details(self, d) -> None:
        self.answer_panel.order_by = self.model.order_by if self.model else self.answer_panel.order_by
        self.answer_panel.show_details(d)
        if d is None:
            self.stack.setCurrentWidget(self.empty_page)
            self._set_empty_text("Nothing to review in this view.")
            self.similar_panel.set_message("")
            self.item_shown.emit(None)
            return
        if self.controller is not None and self.controller.current_row >= 0:
            self._select_row(self.controller.current_row)
        kind = d.item.kind.value
        page = self._media_views.get(kind, self.cloud_page)
        if page is self.image_page:
            self._show_image(d)
        elif hasattr(page, "show_item"):
            page.show_item(d)
        focus = QApplication.focusWidget()
        refocus = focus is None or focus is self.empty_page or (self.stack.isAncestorOf(focus) and not page.isAncestorOf(focus)
                                                             and focus is not page)
        self.stack.setCurrentWidget(page)
        if refocus:
            page.setFocus(Qt.OtherFocusReason)
        self._update_progress()
        self._similar_timer.start()  # secondary: once the annotator stays on the item a moment
        if not self._plots_allowed:
            self._plots_allowed = True  # the first item is up: the plots may be built now
            QTimer.singleShot(300, self, self._allow_plots)
        self.item_shown.emit(d)

    def _show_image(self, d) -> None:
        page = self.image_page
        item = d.item
        size = f"{item.width}×{item.height}" if item.width else ""
        page.caption.setText(f"{Path(d.media_path).name}   {size}   · split {item.split}")
        img = self.images.image(d.media_path)
        if img is not None:
            page.view.set_image(img)
        else:
            err = self.images.error(d.media_path)
            page.view.set_image(None, f"cannot show this image: {err}" if err else "loading…")
        att = d.prediction.attention if d.prediction is not None else None
        page.set_attention(att, d.overlays)
        g = page.view.glimpse
        if g < len(d.peaks) and d.peaks[g] is not None:
            page.caption.setText(page.caption.text() + f"   · attention peak {d.peaks[g]:.2f}× uniform")

    def _image_arrived(self, path: str) -> None:
        c = self.controller
        if c is None or c.current is None or c.current.media_path != path:
            return
        if self.stack.currentWidget() is self.image_page:
            self._show_image(c.current)
            self.item_shown.emit(c.current)

    def current_image_ready(self) -> bool:
        c = self.controller
        return c is not None and c.current is not None and self.images.has_image(c.current.media_path)

    def _update_progress(self) -> None:
        if self.model is None or self.controller is None:
            self.progress_label.setText("")
            return
        n = self.model.rowCount()
        r = self.controller.current_row
        self.progress_label.setText(f"item {r + 1:,} of {n:,}" if r >= 0 else f"{n:,} in view")

    def _request_similar(self) -> None:
        c = self.controller
        if c is None or c.current is None:
            return
        if self.fused_index is None:
            v = self.project.active_model if self.project else None
            self.similar_panel.set_message(
                f"No embeddings saved for model {v} yet (they are written when a model scores the pool)." if v
                else "Similar items need a trained model.")
            return
        from ...core.insights import similar_items

        self._similar_token += 1
        token, qid, project, index = self._similar_token, c.current.question.id, self.project, self.fused_index
        self.bg.submit(similar_items, project, qid, index, 8,
                       on_done=lambda found: self._similar_done(token, found),
                       on_error=lambda e: self.similar_panel.set_message(f"similar items unavailable: {e}"))

    def _similar_done(self, token: int, found) -> None:
        if token == self._similar_token and self.project is not None:
            self.similar_panel.set_items(found, self.project.media_path)

    def _open_question(self, qid: int) -> None:
        if self.controller is not None:
            self.controller.go_to_question(qid)
            self.focus_review()

    def _written(self, correction, op: str) -> None:
        if op == "do":
            self.session_reviews += 1
        if self.fused_index is not None:
            self.fused_index.set_candidates([correction.question_id],
                                            correction.after_status in (Status.ACCEPTED, Status.CORRECTED, Status.LABELLED)
                                            and correction.after_answer is not None)
        if correction.after_answer:
            from ...core.data.vocab import normalize_answer

            key = normalize_answer(correction.after_answer)
            if key and key not in self.vocabulary:
                self.vocabulary.add(key)
                self.answer_panel.add_completion(correction.after_answer)
        self._counts_timer.start()
