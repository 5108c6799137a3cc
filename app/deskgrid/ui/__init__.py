"""The desktop app (PySide6 + qasync). Only this package imports Qt."""
