#!/usr/bin/env python3
"""greyproxy tui on a terminal nobody reads (a frozen ssh session).

frozentty.py GREYPROXY DATADIR ORIGIN_PORT HELD_PORT: runs `greyproxy
tui` on an 80x24 pty, fills the screen's buffer (^L redraws, with
Activity shown) and then stops reading.  Prints one line per finding:
  full BYTES             bytes the terminal holds unread
  answered N of M SLOW   requests through the proxy meanwhile, the slowest
  sleeping WCHAN         where the interface's thread waits
  allowed CODE           after reading again: a held request, allowed
                         with 'a' in Pending, answered CODE
  exit STATUS            after q
"""
import fcntl, json, os, pty, select, struct, subprocess, sys, termios, time

gp, d, op, hp = sys.argv[1:5]
pid, fd = pty.fork()
if pid == 0:
    os.environ["TERM"] = "xterm-256color"
    os.execv(gp, [gp, "tui", "--http", "127.0.0.1:0", "--socks", "127.0.0.1:0",
                  "--dns", "127.0.0.1:0", "--api", "127.0.0.1:0", "--data-dir", d])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))


def drain(secs):
    end = time.time() + secs
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                os.read(fd, 65536)
            except OSError:
                return


end = time.time() + 10
while not os.path.exists(d + "/listen.json") and time.time() < end:
    drain(0.02)
listen = json.load(open(d + "/listen.json"))
http, api = listen["http"], listen["api"]
drain(0.3)
os.write(fd, b"3")          # Activity
for _ in range(60):          # redraws until the terminal is full
    os.write(fd, b"\x0c")
    time.sleep(0.02)
n, ok, slow = 50, 0, 0.0
for i in range(n):
    t = time.time()
    r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5",
                        "-x", "http://" + http, "http://127.0.0.1:%s/hello" % op],
                       capture_output=True, text=True)
    slow = max(slow, time.time() - t)
    ok += r.stdout == "200"
    last = r.stdout
print("full", struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0])
print("answered %d of %d %.2f (last %s)" % (ok, n, slow, last))
print("sleeping", open("/proc/%d/wchan" % pid).read())
sys.stdout.flush()

# Read again; a held request is allowed from the screen.
drain(0.5)
held = subprocess.Popen(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "20",
                         "-x", "http://" + http, "http://127.0.0.1:%s/hello" % hp],
                        stdout=subprocess.PIPE, text=True)
end = time.time() + 10
while time.time() < end:
    items = json.load(__import__("urllib.request").request.urlopen(
        "http://%s/api/pending" % api))["items"]
    if items:
        break
    drain(0.05)
os.write(fd, b"1")
end = time.time() + 15
while held.poll() is None and time.time() < end:
    drain(0.3)
    os.write(fd, b"a")       # again until the list has it
print("allowed", held.communicate()[0] if held.poll() is not None else "none")
held.kill() if held.poll() is None else None

os.write(fd, b"q")
end, status = time.time() + 10, None
while time.time() < end:
    drain(0.1)
    p, st = os.waitpid(pid, os.WNOHANG)
    if p == pid:
        status = st
        break
print("exit", status)
