#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# The update server of tests/netns/updater.sh: HTTPS (and a plain HTTP twin) on 127.0.0.1
# serving a directory, with a misbehaviour chosen per path.
#
#   updserver.py ROOT CERT KEY
#       serves ROOT over HTTPS (CERT/KEY, PEM) and over plain HTTP, both on 127.0.0.1 with
#       ports chosen by the kernel; prints "https PORT" and "http PORT", then "listening".
#       Every request is logged to stdout as "GET PATH MODE STATUS SCHEME". The modes below
#       apply to HTTPS only: plain HTTP serves every file normally (the redirect target).
#
# ROOT/.modes (read at each request) holds "PATH MODE [ARG]" lines; a path not listed is
# served normally. Modes:
#   normal       200 with Content-Length and the whole file
#   truncate     Content-Length of the whole file, then only its first half, then close
#   stall        status and headers (Content-Length of the file), then nothing until the
#                client gives up
#   slow         the whole file in 20 pieces, 0.1 s apart (a download that takes 2 s)
#   redirect     302 to the same path on the plain HTTP port
#   oversized    200 without Content-Length (the body ends with the connection), ARG bytes
#                (default 200 MiB) streamed until the client closes
#   bigheader    like oversized, but announces ARG bytes in Content-Length
import http.server
import os
import socket
import socketserver
import ssl
import sys
import threading
import time

ROOT = None
HTTP_PORT = 0
CHUNK = 64 << 10


def mode_of(path):
    try:
        with open(os.path.join(ROOT, ".modes")) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 2 and parts[0] == path:
                    return parts[1], (int(parts[2]) if len(parts) > 2 else 200 << 20)
    except FileNotFoundError:
        pass
    return "normal", 0


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    scheme = "https"

    def log_message(self, fmt, *args):  # quiet: do_GET logs one line per request
        pass

    def note(self, mode, status):
        print(f"GET {self.path} {mode} {status} {self.scheme} "
              f"{self.headers.get('User-Agent', '-')}", flush=True)

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        mode, arg = mode_of(path) if self.scheme == "https" else ("normal", 0)
        if mode == "redirect":
            self.note(mode, 302)
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1:{HTTP_PORT}{path}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if mode in ("oversized", "bigheader"):
            self.note(mode, 200)
            self.stream_zeros(arg, mode == "bigheader")
            return
        fs = os.path.realpath(os.path.join(ROOT, path.lstrip("/")))
        if not fs.startswith(os.path.realpath(ROOT) + "/") or not os.path.isfile(fs):
            self.note(mode, 404)
            self.send_error(404)
            return
        body = open(fs, "rb").read()
        self.note(mode, 200)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if mode == "truncate":
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
        elif mode == "stall":
            self.wfile.flush()
            self.stall()
        elif mode == "slow":
            step = len(body) // 20 + 1
            for i in range(0, len(body), step):
                self.wfile.write(body[i:i + step])
                self.wfile.flush()
                time.sleep(0.1)
        else:
            self.wfile.write(body)

    def stream_zeros(self, total, announce):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if announce:
            self.send_header("Content-Length", str(total))
        else:
            self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        zeros = bytes(CHUNK)
        sent = 0
        try:
            while sent < total:
                self.wfile.write(zeros)
                sent += CHUNK
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            pass
        print(f"  streamed {sent} bytes of {self.path}", flush=True)

    def stall(self):
        """Sends nothing more; returns once the client closes (or after 120 s)."""
        self.close_connection = True
        sock = self.connection
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                sock.settimeout(0.5)
                if not sock.recv(1):
                    break
            except socket.timeout:
                continue
            except (ssl.SSLError, OSError):
                break
        print(f"  stall on {self.path} ended", flush=True)


class PlainHandler(Handler):
    scheme = "http"


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    global ROOT, HTTP_PORT
    if len(sys.argv) != 4:
        print("usage: updserver.py ROOT CERT KEY", file=sys.stderr)
        return 2
    ROOT = os.path.abspath(sys.argv[1])
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[2], sys.argv[3])
    https = Server(("127.0.0.1", 0), Handler)
    https.socket = ctx.wrap_socket(https.socket, server_side=True)
    plain = Server(("127.0.0.1", 0), PlainHandler)
    HTTP_PORT = plain.server_address[1]
    print(f"https {https.server_address[1]}", flush=True)
    print(f"http {HTTP_PORT}", flush=True)
    threading.Thread(target=plain.serve_forever, daemon=True).start()
    print("listening", flush=True)
    https.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
