"""Loopback doors into the registries' network namespace, for clients that run in the root
namespace (clyde-seed's registry resolution): a TCP listener on 127.0.0.1 whose every
connection is joined to a socket opened inside the namespace.  A thread that enters a
network namespace (setns) opens its sockets there; the sockets it was handed keep theirs.
The rate limit of the registry link does not apply (the bytes go over the namespace's
loopback): manifests and configs only, never a pull."""

import ctypes
import os
import socket
import threading

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def enter_netns(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            e = ctypes.get_errno()
            raise OSError(e, 'setns %s: %s' % (path, os.strerror(e)))
    finally:
        os.close(fd)


def _pipe(a, b):
    try:
        while True:
            data = a.recv(65536)
            if not data:
                break
            b.sendall(data)
    except OSError:
        pass
    finally:
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _serve_one(client, netns, port):
    try:
        enter_netns(netns)          # this thread only
        upstream = socket.create_connection(('127.0.0.1', port), timeout=10)
        upstream.settimeout(None)
    except OSError:
        client.close()
        return
    t = threading.Thread(target=_pipe, args=(upstream, client), daemon=True)
    t.start()
    _pipe(client, upstream)
    t.join()
    client.close()
    upstream.close()


class Door:
    """127.0.0.1:self.port in the root namespace -> 127.0.0.1:port in netns."""

    def __init__(self, netns_name, port):
        self.netns = '/run/netns/' + netns_name
        self.target = port
        self.sock = socket.socket()
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=_serve_one, args=(c, self.netns, self.target), daemon=True).start()

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
