"""trayassist: a local, private writing assistant that lives in the system tray."""

__version__ = "0.1.0"
