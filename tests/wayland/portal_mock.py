"""A python-dbusmock template: xdg-desktop-portal with GlobalShortcuts and RemoteDesktop,
enough of each to drive the request/response flow. Loaded by
`python3 -m dbusmock --session -t tests/wayland/portal_mock.py` (Debian's python3-dbusmock,
run by the system Python: it needs dbus-python, which the venv does not have)."""

import dbus
from dbusmock import mockobject

BUS_NAME = "org.freedesktop.portal.Desktop"
MAIN_OBJ = "/org/freedesktop/portal/desktop"
MAIN_IFACE = "org.freedesktop.portal.GlobalShortcuts"
SYSTEM_BUS = False
REMOTE = "org.freedesktop.portal.RemoteDesktop"
REQUEST = "org.freedesktop.portal.Request"


def _respond(self, token, results):
    path = f"/org/freedesktop/portal/desktop/request/mock/{token}"
    if path not in mockobject.objects:
        self.AddObject(path, REQUEST, {}, [])
    mockobject.objects[path].EmitSignal(REQUEST, "Response", "ua{sv}",
                                        [dbus.UInt32(0), dbus.Dictionary(results,
                                                                         signature="sv")])
    return dbus.ObjectPath(path)


def _create_session(self, options):
    session = f"/org/freedesktop/portal/desktop/session/mock/{options['session_handle_token']}"
    return _respond(self, options["handle_token"], {"session_handle": dbus.String(session)})


def _bind(self, session, shortcuts, parent, options):
    bound = dbus.Array([dbus.Struct((sid, dbus.Dictionary(
        {"description": props.get("description", ""),
         "trigger_description": "mock:" + props.get("preferred_trigger", "")},
        signature="sv"))) for sid, props in shortcuts], signature="(sa{sv})")
    return _respond(self, options["handle_token"], {"shortcuts": bound})


def _select_devices(self, session, options):
    return _respond(self, options["handle_token"], {})


def _start(self, session, parent, options):
    # As xdg-desktop-portal does for persist_mode 2: a new restore token every start.
    self.starts = getattr(self, "starts", 0) + 1
    return _respond(self, options["handle_token"], {
        "devices": dbus.UInt32(1), "restore_token": dbus.String(f"grant-{self.starts}")})


def load(mock, parameters):
    mock.AddProperty(MAIN_IFACE, "version", dbus.UInt32(1))
    mock.AddMethod(MAIN_IFACE, "CreateSession", "a{sv}", "o", _create_session)
    mock.AddMethod(MAIN_IFACE, "BindShortcuts", "oa(sa{sv})sa{sv}", "o", _bind)
    mock.AddProperty(REMOTE, "version", dbus.UInt32(2))
    mock.AddMethod(REMOTE, "CreateSession", "a{sv}", "o", _create_session)
    mock.AddMethod(REMOTE, "SelectDevices", "oa{sv}", "o", _select_devices)
    mock.AddMethod(REMOTE, "Start", "osa{sv}", "o", _start)
    mock.AddMethod(REMOTE, "NotifyKeyboardKeysym", "oa{sv}iu", "", "")
