"""The volunteer's preferences: cores, CPU %, idle time, batteries, hours, memory cap, and
whether apps other developers published run here (in Docker's sandbox; off by default, and
disabled with a sentence when Docker is absent).

Every edit emits `changed(Preferences)`; the pane saves and applies it."""

from __future__ import annotations

import os

from PySide6.QtCore import QTime, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QTimeEdit,
    QWidget,
)

from deskgrid.worker.policy import Preferences, allowed_cores


def _hour(time: QTime) -> float:
    return time.hour() + time.minute() / 60


def _time(hour: float) -> QTime:
    minutes = round(hour * 60) % (24 * 60)
    return QTime(minutes // 60, minutes % 60)


class PreferencesForm(QWidget):
    changed = Signal(object)  # Preferences

    def __init__(self, cpu_count: int | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cpu_count = cpu_count or os.cpu_count() or 1
        self._loading = False
        self._busy_memory = 50.0

        self.cores = QSpinBox()
        self.cores.setRange(1, self.cpu_count)
        self.cores.setSuffix(f" of {self.cpu_count}")
        self.cpu_pct = QSpinBox()
        self.cpu_pct.setRange(1, 100)
        self.cpu_pct.setSuffix(" %")
        self.only_idle = QCheckBox("Only when the computer is idle for")
        self.idle_minutes = QSpinBox()
        self.idle_minutes.setRange(0, 24 * 60)
        self.idle_minutes.setSuffix(" min")
        self.not_on_battery = QCheckBox("Not on battery")
        self.limit_hours = QCheckBox("Only between")
        self.start_time = QTimeEdit()
        self.end_time = QTimeEdit()
        for edit in (self.start_time, self.end_time):
            edit.setDisplayFormat("HH:mm")
        self.memory_pct = QSpinBox()
        self.memory_pct.setRange(1, 100)
        self.memory_pct.setSuffix(" % of memory")
        self.others_pct = QSpinBox()  # BOINC's suspend_cpu_usage
        self.others_pct.setRange(0, 100)
        self.others_pct.setSuffix(" % of the CPU")
        self.others_pct.setSpecialValueText("never")
        self.others_pct.setToolTip(
            "Pause while other programs (not DeskGrid) use more than this share of the CPU; "
            "0 never pauses for them."
        )
        self.docker_apps = QCheckBox("Run apps from other developers in Docker")
        self.docker_apps.setToolTip(
            "Apps published on the hub by other developers run only in a Docker container "
            "with no network, a read-only system, no privileges, not as root, and capped "
            "memory, CPU and processes; it sees only its job's files, never yours or your keys."
        )
        self.docker_note = QLabel()
        self.docker_note.setWordWrap(True)
        self.docker_note.setVisible(False)

        idle_row = QHBoxLayout()
        idle_row.addWidget(self.only_idle)
        idle_row.addWidget(self.idle_minutes)
        idle_row.addStretch(1)
        hours_row = QHBoxLayout()
        hours_row.addWidget(self.limit_hours)
        hours_row.addWidget(self.start_time)
        hours_row.addWidget(QLabel("and"))
        hours_row.addWidget(self.end_time)
        hours_row.addStretch(1)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Cores", self.cores)
        form.addRow("CPU time", self.cpu_pct)
        form.addRow(idle_row)
        form.addRow(self.not_on_battery)
        form.addRow(hours_row)
        form.addRow("Memory cap", self.memory_pct)
        form.addRow("Pause while other programs use over", self.others_pct)
        form.addRow(self.docker_apps)
        form.addRow(self.docker_note)

        for spin in (
            self.cores,
            self.cpu_pct,
            self.idle_minutes,
            self.memory_pct,
            self.others_pct,
        ):
            spin.valueChanged.connect(self._edited)
        for box in (self.only_idle, self.not_on_battery, self.limit_hours, self.docker_apps):
            box.toggled.connect(self._edited)
        for edit in (self.start_time, self.end_time):
            edit.timeChanged.connect(self._edited)
        self.load(Preferences())

    def load(self, prefs: Preferences) -> None:
        """Show `prefs` (without emitting `changed`)."""
        self._loading = True
        try:
            self._busy_memory = prefs.ram_max_used_busy_pct
            self.cores.setValue(allowed_cores(prefs, self.cpu_count))
            self.cpu_pct.setValue(round(prefs.cpu_usage_limit))
            self.only_idle.setChecked(not prefs.run_if_user_active)
            self.idle_minutes.setValue(round(prefs.idle_time_to_run))
            self.not_on_battery.setChecked(not prefs.run_on_batteries)
            self.limit_hours.setChecked(prefs.start_hour != prefs.end_hour)
            self.start_time.setTime(_time(prefs.start_hour))
            self.end_time.setTime(_time(prefs.end_hour))
            self.memory_pct.setValue(round(prefs.ram_max_used_idle_pct))
            self.others_pct.setValue(round(prefs.suspend_cpu_usage))
            self.docker_apps.setChecked(prefs.run_docker_apps)
        finally:
            self._loading = False
        self._sync_enabled()
        self._base = prefs

    def preferences(self) -> Preferences:
        start, end = _hour(self.start_time.time()), _hour(self.end_time.time())
        if not self.limit_hours.isChecked():
            start = end = 0.0
        memory = float(self.memory_pct.value())
        return self._base.model_copy(
            update={
                "max_ncpus_pct": min(100.0, self.cores.value() * 100 / self.cpu_count),
                "cpu_usage_limit": float(self.cpu_pct.value()),
                "run_if_user_active": not self.only_idle.isChecked(),
                "idle_time_to_run": float(self.idle_minutes.value()),
                "run_on_batteries": not self.not_on_battery.isChecked(),
                "start_hour": start,
                "end_hour": end,
                "ram_max_used_idle_pct": memory,
                "ram_max_used_busy_pct": min(self._busy_memory, memory),
                "suspend_cpu_usage": float(self.others_pct.value()),
                "run_docker_apps": self.docker_apps.isChecked(),
            }
        )

    def set_docker_missing(self, sentence: str | None) -> None:
        """Docker is absent (`sentence` says so and what to do): the published apps' choice
        is disabled; None: Docker answers, the choice is the volunteer's."""
        self.docker_apps.setEnabled(sentence is None)
        self.docker_note.setText(sentence or "")
        self.docker_note.setVisible(sentence is not None)

    def _sync_enabled(self) -> None:
        self.idle_minutes.setEnabled(self.only_idle.isChecked())
        self.start_time.setEnabled(self.limit_hours.isChecked())
        self.end_time.setEnabled(self.limit_hours.isChecked())

    def _edited(self, *_: object) -> None:
        self._sync_enabled()
        if self._loading:
            return
        prefs = self.preferences()
        self._base = prefs
        self.changed.emit(prefs)
