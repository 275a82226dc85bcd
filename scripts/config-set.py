#!/usr/bin/env python3
"""config-set.py NAME=value ... -- sets settings in Mira's config file.

The file is $XDG_CONFIG_HOME/mira/config (an absolute XDG_CONFIG_HOME only),
else ~/.config/mira/config: NAME=value lines, the names of the environment
variables (README, "Settings"). Each NAME's line is replaced where it stands,
or added at the end; every other line is kept byte for byte. The file is
written beside itself and renamed into place (never half written), under a
lock on its folder (the one the tools' ConfigStore takes, so no change is
lost). A new folder is made 0700 and a new file 0600; an existing file keeps
its mode. A symbolic link, a FIFO or a file over 64 KiB is refused, as the
tools refuse it. Prints the file's path. Exit 64 for a bad argument, 74 when
the file cannot be read or written.

scripts/local-server.sh start --save uses it; the tools' own API for the same
is ConfigStore (Sources/MiraSystem/ConfigStore.swift).
"""
import errno
import fcntl
import os
import re
import stat
import sys
import tempfile

SIZE_LIMIT = 64 * 1024
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def fail(message, status):
    sys.stderr.write("config-set: %s\n" % message)
    sys.exit(status)


def config_path():
    base = os.environ.get("XDG_CONFIG_HOME", "")
    if not base.startswith("/"):
        home = os.environ.get("HOME", "")
        if not home:
            fail("neither XDG_CONFIG_HOME nor HOME is set: no config file to write", 64)
        base = home + "/.config"
    return base + "/mira/config"


def parse_arguments(arguments):
    pairs = []
    for argument in arguments:
        name, equals, value = argument.partition("=")
        if not equals or not NAME.match(name):
            fail("not NAME=value: %r" % argument, 64)
        if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
            fail("the value of %s holds a control character" % name, 64)
        pairs.append((name, value))
    if not pairs:
        fail("usage: config-set.py NAME=value ...", 64)
    return pairs


def read_existing(path):
    """The file's bytes and mode, or (None, None) when there is none."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as e:
        if e.errno == errno.ENOENT:
            return None, None
        if e.errno == errno.ELOOP:
            fail("cannot read %s: it is a symbolic link (not followed)" % path, 74)
        fail("cannot read %s: %s" % (path, e.strerror), 74)
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            fail("cannot read %s: it is not a regular file" % path, 74)
        if info.st_size > SIZE_LIMIT:
            fail("cannot read %s: it is %d bytes, over the %d-byte limit" % (path, info.st_size, SIZE_LIMIT), 74)
        return f.read(SIZE_LIMIT + 1), stat.S_IMODE(info.st_mode)


def sets(line, name):
    """Whether the line sets NAME (spaces before = too, as the tools mend them)."""
    rest = line.lstrip(b" \t")
    if not rest.startswith(name.encode()):
        return False
    return rest[len(name):].lstrip(b" \t").startswith(b"=")


def edited(old, pairs):
    lines = old.split(b"\n") if old else []
    if old and old.endswith(b"\n"):
        lines.pop()
    for name, value in pairs:
        new = ("%s=%s" % (name, value)).encode()
        kept, replaced = [], False
        for line in lines:
            if sets(line, name):
                if not replaced:
                    kept.append(new + (b"\r" if line.endswith(b"\r") else b""))
                    replaced = True
                continue
            kept.append(line)
        if not replaced:
            kept.append(new)
        lines = kept
    return b"".join(line + b"\n" for line in lines)


def main():
    pairs = parse_arguments(sys.argv[1:])
    path = config_path()
    folder = os.path.dirname(path)
    old_umask = os.umask(0o077)  # folders made here are 0700
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as e:
        fail("cannot create %s: %s" % (folder, e.strerror), 74)
    finally:
        os.umask(old_umask)
    lock = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        old, mode = read_existing(path)
        new = edited(old, pairs)
        if len(new) > SIZE_LIMIT:
            fail("%s would be over %d bytes" % (path, SIZE_LIMIT), 74)
        if new != old:
            fd, temporary = tempfile.mkstemp(prefix=".config.", dir=folder)  # 0600
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(new)
                    f.flush()
                    if mode is not None:
                        os.fchmod(f.fileno(), mode)
                    os.fsync(f.fileno())
                os.rename(temporary, path)
            except OSError as e:
                try:
                    os.unlink(temporary)
                except OSError:
                    pass
                fail("cannot write %s: %s" % (path, e.strerror), 74)
            os.fsync(lock)
    finally:
        os.close(lock)
    print(path)


if __name__ == "__main__":
    main()
