#!/usr/bin/python3 -I
"""lockstress adapter for Python's file locks.

    lockstress -strategy 'exec:adapters/pylock.py filelock'       # filelock.FileLock (flock(2))
    lockstress -strategy 'exec:adapters/pylock.py softfilelock'   # filelock.SoftFileLock (O_EXCL file)
    lockstress -strategy 'exec:adapters/pylock.py flufl'          # flufl.lock.Lock (link(2), NFS-safe)

Speaks the adapter protocol of docs/lockstress.md on standard input and
output; the lock file is the last argument. Each lock is used with its
library's defaults (poll interval, lifetime), as a program that uses it
would. Debian packages: python3-filelock, python3-flufl.lock.
"""

import datetime
import sys


def usage():
    sys.stderr.write("usage: pylock.py filelock|softfilelock|flufl LOCKFILE\n")
    sys.exit(2)


def make_lock(kind, path):
    """Returns (description, acquire(seconds) -> bool, release())."""
    if kind in ("filelock", "softfilelock"):
        import filelock

        cls = filelock.FileLock if kind == "filelock" else filelock.SoftFileLock
        lock = cls(path)

        def acquire(secs):
            try:
                lock.acquire(timeout=secs)
                return True
            except filelock.Timeout:
                return False

        return "python filelock %s %s" % (filelock.__version__, cls.__name__), acquire, lock.release
    if kind == "flufl":
        import flufl.lock

        lock = flufl.lock.Lock(path)

        def acquire(secs):
            try:
                lock.lock(timeout=datetime.timedelta(seconds=secs))
                return True
            except flufl.lock.TimeOutError:
                return False

        return "python flufl.lock %s Lock" % flufl.lock.__version__, acquire, lock.unlock
    usage()


def main():
    if len(sys.argv) != 3:
        usage()
    try:
        desc, acquire, release = make_lock(sys.argv[1], sys.argv[2])
    except ImportError as e:
        sys.stderr.write("pylock.py: %s (install python3-filelock or python3-flufl.lock)\n" % e)
        sys.exit(1)
    out = sys.stdout
    out.write("ready %s\n" % desc)
    out.flush()
    for line in sys.stdin:
        words = line.split()
        cmd = words[0] if words else ""
        try:
            if cmd == "lock":
                ms = int(words[1]) if len(words) > 1 else 0
                out.write("ok\n" if acquire(ms / 1000.0) else "timeout\n")
            elif cmd == "unlock":
                release()
                out.write("ok\n")
            else:
                out.write("error unknown request: %r\n" % line.strip())
        except Exception as e:  # the lock's own failure: report it, keep going
            out.write("error %s: %s\n" % (type(e).__name__, str(e).replace("\n", " ")))
        out.flush()


if __name__ == "__main__":
    main()
