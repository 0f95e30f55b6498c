#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# A stand-in for systemd-resolved's D-Bus API on a private bus, for tunnel.sh: owns
# org.freedesktop.resolve1, answers SetLinkDNS, SetLinkDomains and RevertLink, and logs each
# call as one JSON line to the file given. Exits after 120 s at the latest.
# Usage (with DBUS_SYSTEM_BUS_ADDRESS set): fake-resolved.py LOGFILE
import json
import socket
import sys

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

MANAGER = "org.freedesktop.resolve1.Manager"
log = open(sys.argv[1], "a", buffering=1)


def family_addr(fam, raw):
    return socket.inet_ntop(socket.AF_INET if fam == 2 else socket.AF_INET6, bytes(raw))


class Resolve1(dbus.service.Object):
    @dbus.service.method(MANAGER, in_signature="ia(iay)")
    def SetLinkDNS(self, ifindex, servers):
        log.write(json.dumps({"call": "SetLinkDNS", "ifindex": int(ifindex),
                              "servers": [[int(f), family_addr(f, a)] for f, a in servers]}) + "\n")

    @dbus.service.method(MANAGER, in_signature="ia(sb)")
    def SetLinkDomains(self, ifindex, domains):
        log.write(json.dumps({"call": "SetLinkDomains", "ifindex": int(ifindex),
                              "domains": [[str(d), bool(r)] for d, r in domains]}) + "\n")

    @dbus.service.method(MANAGER, in_signature="i")
    def RevertLink(self, ifindex):
        log.write(json.dumps({"call": "RevertLink", "ifindex": int(ifindex)}) + "\n")


DBusGMainLoop(set_as_default=True)
bus = dbus.SystemBus()
name = dbus.service.BusName("org.freedesktop.resolve1", bus)
obj = Resolve1(bus, "/org/freedesktop/resolve1")
print("ready", flush=True)
loop = GLib.MainLoop()
GLib.timeout_add_seconds(120, loop.quit)
loop.run()
