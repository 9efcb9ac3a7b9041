"""fleetbench's wire for tests, in the standard library only: msgpack
(what proto/ speaks) and ZeroMQ's ZMTP 3.0 with the NULL mechanism (what
libzmq speaks to a peer without keys), so tests can play an agent or a
coordinator against the real programs with nothing but python3.

An independent implementation on purpose: what is tested is the bytes on
the wire, as libzmq and msgpack-c send and read them.
"""

import select
import socket
import struct
import time

# ---- msgpack ------------------------------------------------------------------


def pack(o):
    """msgpack of None, bool, int, str, bytes, list and dict. bytes are
    packed as a msgpack *str* (raw text, possibly not UTF-8): proto has no
    binary fields, and a test lying in a text field needs exactly that."""
    if o is None:
        return b"\xc0"
    if o is True or o is False:
        return b"\xc3" if o else b"\xc2"
    if isinstance(o, int):
        if 0 <= o < 0x80:
            return bytes([o])
        if o >= 0:
            for code, fmt, lim in ((0xcc, ">B", 1 << 8), (0xcd, ">H", 1 << 16),
                                   (0xce, ">I", 1 << 32), (0xcf, ">Q", 1 << 64)):
                if o < lim:
                    return bytes([code]) + struct.pack(fmt, o)
            raise ValueError(f"{o} does not fit 64 bits")
        if o >= -32:
            return struct.pack("b", o)
        return b"\xd3" + struct.pack(">q", o)
    if isinstance(o, (str, bytes)):
        b = o.encode() if isinstance(o, str) else o
        n = len(b)
        head = (bytes([0xa0 | n]) if n < 32 else b"\xd9" + bytes([n]) if n < 256
                else b"\xda" + struct.pack(">H", n) if n < 65536 else b"\xdb" + struct.pack(">I", n))
        return head + b
    if isinstance(o, (list, tuple)):
        n = len(o)
        head = bytes([0x90 | n]) if n < 16 else b"\xdc" + struct.pack(">H", n) if n < 65536 \
            else b"\xdd" + struct.pack(">I", n)
        return head + b"".join(pack(x) for x in o)
    if isinstance(o, dict):
        n = len(o)
        head = bytes([0x80 | n]) if n < 16 else b"\xde" + struct.pack(">H", n)
        return head + b"".join(pack(k) + pack(v) for k, v in o.items())
    raise TypeError(type(o))


def unpack(data):
    """One msgpack object from bytes (text decoded with errors replaced)."""
    pos = 0

    def take(n):
        nonlocal pos
        if pos + n > len(data):
            raise ValueError("truncated msgpack")
        pos += n
        return data[pos - n:pos]

    def uint(n):
        return int.from_bytes(take(n), "big")

    def obj():
        b = take(1)[0]
        if b < 0x80:
            return b
        if b >= 0xe0:
            return b - 0x100
        if b <= 0x8f:
            return {obj(): obj() for _ in range(b & 0x0f)}
        if b <= 0x9f:
            return [obj() for _ in range(b & 0x0f)]
        if b <= 0xbf:
            return take(b & 0x1f).decode(errors="replace")
        if b in (0xc0, 0xc2, 0xc3):
            return {0xc0: None, 0xc2: False, 0xc3: True}[b]
        if 0xcc <= b <= 0xcf:
            return uint(1 << (b - 0xcc))
        if 0xd0 <= b <= 0xd3:
            return int.from_bytes(take(1 << (b - 0xd0)), "big", signed=True)
        if 0xd9 <= b <= 0xdb:
            return take(uint(1 << (b - 0xd9))).decode(errors="replace")
        if 0xc4 <= b <= 0xc6:
            return take(uint(1 << (b - 0xc4)))
        if b in (0xdc, 0xdd):
            return [obj() for _ in range(uint(2 if b == 0xdc else 4))]
        if b in (0xde, 0xdf):
            return {obj(): obj() for _ in range(uint(2 if b == 0xde else 4))}
        raise ValueError(f"msgpack byte {b:#x} not used by proto")

    o = obj()
    if pos != len(data):
        raise ValueError("trailing bytes after the msgpack object")
    return o


# ---- ZMTP 3.0, NULL mechanism ---------------------------------------------------

GREETING = (b"\xff" + b"\x00" * 8 + b"\x7f" + b"\x03\x00" + b"NULL".ljust(20, b"\x00")
            + b"\x00" + b"\x00" * 31)
FLAG_MORE, FLAG_LONG, FLAG_COMMAND = 1, 2, 4


def frame(body, more=False, command=False):
    flags = (FLAG_MORE if more else 0) | (FLAG_COMMAND if command else 0)
    if len(body) > 255:
        return bytes([flags | FLAG_LONG]) + struct.pack(">Q", len(body)) + body
    return bytes([flags, len(body)]) + body


def ready_command(socket_type):
    props = b"\x0bSocket-Type" + struct.pack(">I", len(socket_type)) + socket_type
    if socket_type == b"DEALER":
        props += b"\x08Identity" + struct.pack(">I", 0)
    return frame(b"\x05READY" + props, command=True)


class Connection:
    """One ZMTP connection: the handshake, then messages (lists of frames).
    Feed it bytes; it hands back the messages they complete.

    In the spec's order: our greeting; READY once the peer's greeting is
    in; messages once its READY is (libzmq drops a connection whose READY
    and first message arrive with the greeting)."""

    def __init__(self, sock, socket_type):
        self.sock = sock
        self.socket_type = socket_type
        self.buf = bytearray()
        self.greeted = self.ready = False
        self.parts = []
        sock.sendall(GREETING)

    def feed(self, data):
        self.buf += data
        out = []
        if not self.greeted:
            if len(self.buf) < 64:
                return out
            if self.buf[0] != 0xff or self.buf[9] != 0x7f or self.buf[10] < 3:
                raise ValueError(f"not a ZMTP 3 greeting: {bytes(self.buf[:64])!r}")
            del self.buf[:64]
            self.greeted = True
            self.sock.sendall(ready_command(self.socket_type))
        while len(self.buf) >= 2:
            flags = self.buf[0]
            head = 9 if flags & FLAG_LONG else 2
            if len(self.buf) < head:
                break
            size = struct.unpack(">Q", self.buf[1:9])[0] if flags & FLAG_LONG else self.buf[1]
            if len(self.buf) < head + size:
                break
            body = bytes(self.buf[head:head + size])
            del self.buf[:head + size]
            if flags & FLAG_COMMAND:
                self.ready = self.ready or body[1:6] == b"READY"
                continue  # READY, PING...: nothing a test acts on
            self.parts.append(body)
            if not flags & FLAG_MORE:
                out.append(self.parts)
                self.parts = []
        return out

    def send(self, *frames):
        data = b"".join(frame(f, more=i < len(frames) - 1) for i, f in enumerate(frames))
        self.sock.sendall(data)


class Server:
    """A listening ZMTP peer of type ROUTER: every connection is a peer, and
    messages come with the Connection they came on (the "route")."""

    def __init__(self, host, port=0):
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind((host, port))
        self.lsock.listen(16)
        self.host, self.port = host, self.lsock.getsockname()[1]
        self.conns = {}

    def poll(self, timeout):
        """[(Connection, [frames])] of what arrives within `timeout` s."""
        socks = [self.lsock] + list(self.conns)
        ready, _, _ = select.select(socks, [], [], timeout)
        got = []
        for s in ready:
            if s is self.lsock:
                c, _ = self.lsock.accept()
                c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self.conns[c] = Connection(c, b"ROUTER")
                continue
            conn = self.conns[s]
            try:
                data = s.recv(1 << 16)
            except OSError:
                data = b""
            if not data:
                del self.conns[s]
                s.close()
                continue
            try:
                got += [(conn, m) for m in conn.feed(data)]
            except ValueError:
                del self.conns[s]
                s.close()
        return got

    def close(self):
        for s in self.conns:
            s.close()
        self.lsock.close()


class Client:
    """A connecting ZMTP peer of type DEALER (one connection)."""

    def __init__(self, host, port, timeout=5.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.conn = Connection(self.sock, b"DEALER")
        self.pending = []
        deadline = time.monotonic() + timeout
        while not self.conn.ready:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.sock], [], [], left)[0]:
                raise TimeoutError(f"no ZMTP handshake from {host}:{port} in {timeout} s")
            data = self.sock.recv(1 << 16)
            if not data:
                raise ConnectionError(f"{host}:{port} closed during the ZMTP handshake")
            self.pending += self.conn.feed(data)

    def send(self, data):
        self.conn.send(data)

    def recv(self, timeout):
        """The next one-frame message's bytes, or None after `timeout` s."""
        deadline = time.monotonic() + timeout
        while not self.pending:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.sock], [], [], left)[0]:
                return None
            data = self.sock.recv(1 << 16)
            if not data:
                return None
            self.pending += self.conn.feed(data)
        return self.pending.pop(0)[-1]

    def close(self):
        self.sock.close()
