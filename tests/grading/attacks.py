"""Attacks on ``dockdojo grade``, one row each: a submission written as a cheating or
hostile learner would write it, and what it deserves.

Most attacks end by scoring in a way that says how they went, so a row's points tell a
held barrier from an attack that did not run as written:

- ``proof()`` does the first exercise honestly (``CACHE`` points): the attack met the
  barrier it was expected to meet (the error it names);
- ``cheat()`` does every exercise (``FULL`` points): the attack got through;
- anything else (an unexpected error) leaves 0 points.

So a row that deserves ``CACHE`` fails loudly both when the attack gets through and when
it stops for some other reason. Rows whose harm is seen from outside (a report, a file,
another learner's score, the mirror) say so in ``outside``, which :mod:`test_attacks`
checks. A new attack is one more row.

The cells may name ``@OUT@`` (the reports folder, made 755 in a folder every user may
pass through, as a grader's may be, and holding an earlier batch's
``earlier.feedback.ipynb``, 644), ``@SUBS@`` (the submissions folder),
``@MIRROR@`` (the mirror's port), ``@SANDBOX@`` (the grader's own engine socket),
``@STATE@`` (the room's state folder), ``@LOOPBACK@`` (the port of a service on the
grader's host's 127.0.0.1, which no one may reach) and ``@VICTIM@`` (the learner the attacks aim at,
whose notebook is empty).
"""

from __future__ import annotations

from dataclasses import dataclass

from grading.kit import CACHE, FULL

PREAMBLE = """
import os, pwd, signal, socket, subprocess, sys, time
import docker
from dockdojo.runner.context import learner_tag

TAG = learner_tag('what-is-an-image', os.environ['DOCKDOJO_LEARNER'])
ME = pwd.getpwuid(os.getuid()).pw_name
OTHERS = [u.pw_name for u in pwd.getpwall()
          if u.pw_name.startswith('dd-grade-') and u.pw_name != ME]

def sh(command):
    return subprocess.run(command, shell=True, capture_output=True, text=True)

def proof():
    # the honest first exercise: the attack met the barrier it was expected to meet
    client = docker.from_env()
    cache = client.containers.run('redis', name=f'cache-{TAG}', detach=True)
    for _ in range(100):
        if cache.exec_run(['redis-cli', 'PING']).output.strip() == b'PONG':
            break
        time.sleep(0.1)
    cache.exec_run(['redis-cli', 'SET', f'dojo-{TAG}', 'rocks'])

def cheat():
    # every exercise: the attack got through
    proof()
    assert sh(f'docker run -d --name public-{TAG} -p 0:6379 redis').returncode == 0
    assert sh(f'docker run --name old-{TAG} busybox echo hello').returncode == 0
    assert sh(f'docker rm old-{TAG}').returncode == 0

# a folder the engine cannot read, or does not see at all (an engine's /tmp is its own)
HELD = ('permission denied', 'no such file', 'read-only file system')

def refused(attempt, *errors):
    # proof() when attempt() fails with one of errors, cheat() when it succeeds
    try:
        attempt()
    except errors or (OSError,):
        proof()
        return
    cheat()
"""


@dataclass(frozen=True)
class Attack:
    name: str
    """The submission's file name without ``.ipynb`` (may name ``@VICTIM@``): the learner
    id it is graded as, once made tame (``learner_of``)."""
    seen: str
    """The attack, as it was seen against the grader before isolation."""
    cell: str
    """Code of the first answer cell (after :data:`PREAMBLE`)."""
    points: int
    """What it deserves."""
    status: str = "graded"
    """How its run must end."""
    message: str = ""
    """A regular expression the run's message must match ("" to skip)."""
    outside: tuple[str, ...] = ()
    """Harm looked for from outside, by name (see test_attacks.OUTSIDE)."""
    file: str = "notebook"
    """What is submitted: ``notebook`` (the lesson with :attr:`cell`), ``link`` (a symbolic
    link to ``/etc/shadow``, which only root may read) or ``fifo`` (a named pipe)."""


ATTACKS: tuple[Attack, ...] = (
    # -- scoring without the work ------------------------------------------------------
    Attack(
        "late-writer",
        "a background process rewrote the learner's report, Gradescope file and CSV row "
        "after the grader had written them",
        "subprocess.Popen(['sh', '-c', 'sleep 2; for f in @OUT@/*; do echo 9 > $f; done; "
        "echo x > @OUT@/late-writer.json'], start_new_session=True)\n"
        "refused(lambda: os.listdir('@OUT@') or open('@OUT@/x', 'w'), OSError)\n",
        CACHE,
        outside=("reports intact",),
    ),
    Attack(
        "patch-checks",
        "appended to the installed checks.py, so the next batch's empty notebook scored 9/9",
        "import dockdojo.runner.kinds.checks as checks\n"
        "refused(lambda: open(checks.__file__, 'a').write('\\n# patched\\n'), OSError)\n",
        CACHE,
        outside=("kernel code unchanged",),
    ),
    Attack(
        "pth-drop",
        "dropped a .pth file into site-packages, run by every later Python",
        "import site\n"
        "refused(lambda: open(site.getsitepackages()[0] + '/zz-evil.pth', 'w')"
        ".write('import os'), OSError)\n",
        CACHE,
        outside=("kernel code unchanged",),
    ),
    Attack(
        "salt-reader",
        "read the per-learner salt from the kernel's environment, to make another "
        "learner's containers",
        "if any('SALT' in k for k in os.environ):\n    cheat()\nelse:\n    proof()\n",
        CACHE,
    ),
    Attack(
        "salt-file",
        "(new) read the room's tag salt from its file, from the kernel and through a "
        "container that bind-mounts the room's state",
        "def attempt():\n"
        "    try:\n"
        "        salt = open('@STATE@/tag-salt').read()\n"
        "    except OSError:\n"
        "        salt = sh('docker run --rm -v @STATE@:/s busybox cat /s/tag-salt').stdout\n"
        "    if len(salt.strip()) != 64:\n"
        "        raise PermissionError('no salt')\n"
        "refused(attempt, PermissionError)\n",
        CACHE,
    ),
    Attack(
        "grader-environ",
        "found the grader's real engine socket in the grader's environment",
        "refused(lambda: open(f'/proc/{os.getppid()}/environ').read(), OSError)\n",
        CACHE,
    ),
    Attack(
        "grader-memory",
        "(new) read the grader's memory for its secrets",
        "refused(lambda: open(f'/proc/{os.getppid()}/mem', 'rb').read(1), OSError)\n",
        CACHE,
    ),
    Attack(
        "forged-image",
        "(round 2) docker tag busybox redis, then a cache container whose redis-cli is a "
        "script printing the expected answer; here the script is committed into the image "
        "(docker diff shows nothing). Held: only the honest stopped-container exercise "
        "(worth CACHE too) scores; through: twice that",
        "client = docker.from_env()\n"
        "fake = (\"mkdir -p /usr/local/bin && echo '#!/bin/sh' > /usr/local/bin/redis-cli && \"\n"
        "        \"echo 'echo rocks' >> /usr/local/bin/redis-cli && \"\n"
        '        "chmod +x /usr/local/bin/redis-cli")\n'
        "maker = client.containers.run('busybox', ['sh', '-c', fake], detach=True)\n"
        "assert maker.wait()['StatusCode'] == 0\n"
        "maker.commit('redis', 'latest', changes=['CMD [\"sleep\", \"3600\"]'])\n"
        "maker.remove()\n"
        "cache = client.containers.run('redis', name=f'cache-{TAG}', detach=True)\n"
        "assert cache.exec_run(['redis-cli', 'GET', f'dojo-{TAG}']).output.strip() == b'rocks'\n"
        "assert sh(f'docker run --name old-{TAG} busybox echo hello').returncode == 0\n"
        "assert sh(f'docker rm old-{TAG}').returncode == 0\n",
        CACHE,
    ),
    Attack(
        "helper",
        "created another learner's per-learner containers, giving their empty notebook 9/9",
        "victim = learner_tag('what-is-an-image', '@VICTIM@')\n"
        "sh(f'docker run -d --name cache-{victim} redis')\n"
        "sh(f'docker run -d --name public-{victim} -p 0:6379 redis')\n"
        "proof()\n",
        CACHE,
        outside=("victim scores nothing",),
    ),
    Attack(
        "impersonator",
        "(new) claimed another learner's id in its kernel to earn points for them",
        "proof()\n"
        "os.environ['DOCKDOJO_LEARNER'] = '@VICTIM@'\n"
        "theirs = learner_tag('what-is-an-image', '@VICTIM@')\n"
        "if theirs != TAG:  # made for them, on this engine\n"
        "    sh(f'docker run -d --name cache-{theirs} redis')\n"
        "    sh(f'docker run -d --name public-{theirs} -p 0:6379 redis')\n",
        CACHE,
        outside=("victim scores nothing",),
    ),
    Attack(
        "shadow-link",
        "a submission that was a symbolic link to a root-only file was read as root, and its "
        "content landed in a world-readable feedback notebook",
        "",
        0,
        status="error",
        message=r"is a symbolic link, not a regular file, and only regular files are graded",
        outside=("no root-only content in reports",),
        file="link",
    ),
    Attack(
        "pipe",
        "(new) a submission that was a FIFO: a grader reading it waits for a writer forever",
        "",
        0,
        status="error",
        message=r"is a FIFO \(a named pipe\), not a regular file",
        file="fifo",
    ),
    Attack(
        "\x1b]0;owned\x07\x1b[2K\r\x1b[1Aescapes",
        "terminal escapes in a file name were printed raw in the final table (retitled the "
        "window, erased and overwrote a line)",
        "proof()\n",
        CACHE,
        outside=("escapes shown, not sent",),
    ),
    # -- escaping to the grader's engine or the host -----------------------------------
    Attack(
        "grader-socket",
        "used the grader's real engine socket to start a container that read the host's /etc",
        "refused(lambda: docker.DockerClient(base_url='unix://@SANDBOX@').ping(), "
        "docker.errors.DockerException, OSError)\n",
        CACHE,
    ),
    Attack(
        "other-engine",
        "(new) used another submission's engine socket",
        "def attempt():\n"
        "    for other in OTHERS:\n"
        "        s = socket.socket(socket.AF_UNIX)\n"
        "        try:\n"
        "            s.connect(f'/run/user/{pwd.getpwnam(other).pw_uid}/docker.sock')\n"
        "        except FileNotFoundError:\n"
        "            continue  # that slot's engine is between submissions\n"
        "        return\n"
        "    raise PermissionError('no other engine answered')\n"
        "refused(attempt, PermissionError)\n",
        CACHE,
    ),
    Attack(
        "host-root",
        "a container with / mounted and SYS_ADMIN read the host's /etc",
        "r = sh('docker run --rm --privileged --cap-add SYS_ADMIN -v /:/host "
        "busybox cat /host/etc/shadow')\n"
        "if 'root:' in r.stdout:\n    cheat()\n"
        "elif any(w in (r.stderr + r.stdout).lower() for w in HELD):\n    proof()\n"
        "else:\n    raise SystemExit(r.stderr)\n",
        CACHE,
    ),
    Attack(
        "host-pid-root",
        "a container with the host's PID namespace and SYS_ADMIN read the host's /etc",
        "r = sh('docker run --rm --privileged --pid=host --cap-add SYS_ADMIN -v /:/host "
        "busybox cat /host/etc/shadow')\n"
        "if 'root:' in r.stdout:\n    cheat()\n"
        "elif r.returncode != 0 and 'not permitted' in r.stderr:\n    proof()\n"
        "else:\n    raise SystemExit(r.stderr)\n",
        CACHE,
    ),
    Attack(
        "host-pid",
        "PidMode: stopped a container the submission did not create (here: the grader)",
        "r = sh(f'docker run --rm --privileged --pid=host busybox kill -STOP {os.getppid()}')\n"
        "if r.returncode == 0:\n    cheat()\n"
        "elif 'not permitted' in r.stderr + r.stdout:\n    proof()\n"
        "else:\n    raise SystemExit(r.stderr)\n",
        CACHE,
    ),
    Attack(
        "container-reads-submissions",
        "(new) a container mounting the submissions folder read another learner's notebook",
        "r = sh('docker run --rm -v @SUBS@:/subs busybox cat /subs/@VICTIM@.ipynb')\n"
        "if 'cells' in r.stdout:\n    cheat()\n"
        "elif any(w in (r.stderr + r.stdout).lower() for w in HELD):\n    proof()\n"
        "else:\n    raise SystemExit(r.stderr)\n",
        CACHE,
    ),
    Attack(
        "old-feedback",
        "a container mounting --out (755, its files 644) read an earlier learner's feedback "
        "notebook, with its solutions",
        "r = sh('docker run --rm -v @OUT@:/out busybox cat /out/earlier.feedback.ipynb')\n"
        "if 'solutions' in r.stdout:\n    cheat()\n"
        "elif any(w in (r.stderr + r.stdout).lower() for w in HELD):\n    proof()\n"
        "else:\n    raise SystemExit(r.stderr)\n",
        CACHE,
        outside=("reports private",),
    ),
    # -- harming others ----------------------------------------------------------------
    Attack(
        "vandal",
        "rewrote another learner's notebook before it was graded",
        "refused(lambda: open('@SUBS@/@VICTIM@.ipynb', 'w').write('{}'), OSError)\n",
        CACHE,
        outside=("submissions unchanged",),
    ),
    Attack(
        "@VICTIM@.results",
        "a submission named bob.results.ipynb: its report, bob.results.json, overwrote bob's "
        "Gradescope file with another learner's result",
        "proof()\n",
        CACHE,
        outside=("victim's files are the victim's",),
    ),
    Attack(
        "reader",
        "(new) read another learner's notebook to copy it",
        "refused(lambda: open('@SUBS@/@VICTIM@.ipynb').read(), OSError)\n",
        CACHE,
    ),
    Attack(
        "kernel-hijack",
        "connected to a concurrent learner's kernel",
        "def attempt():\n"
        "    for other in OTHERS:\n"
        "        try:\n"
        "            open(f'/run/dockdojo/grading/{other}/kernel/kernel.json').read()\n"
        "        except FileNotFoundError:\n"
        "            continue\n"
        "        return\n"
        "    raise PermissionError('no kernel found')\n"
        "refused(attempt, PermissionError)\n",
        CACHE,
    ),
    Attack(
        "signals",
        "SIGSTOP on the grader froze the whole batch; SIGKILL lost every report",
        "def others():\n"
        "    for pid in [int(p) for p in os.listdir('/proc') if p.isdigit()]:\n"
        "        try:\n"
        "            if os.stat(f'/proc/{pid}').st_uid != os.getuid():\n"
        "                yield pid\n"
        "        except OSError:\n"
        "            pass\n"
        "def attempt():\n"
        "    for pid in [os.getppid(), *others()]:\n"
        "        try:\n"
        "            os.kill(pid, signal.SIGSTOP)\n"
        "        except (PermissionError, ProcessLookupError):\n"
        "            continue\n"
        "        return\n"
        "    raise PermissionError('no signal reached anyone else')\n"
        "refused(attempt, PermissionError)\n",
        CACHE,
    ),
    Attack(
        "mirror-push",
        "overwrote a shared image (rebuilt, retagged, committed over)",
        "assert sh('docker pull busybox').returncode == 0\n"
        "sh('docker tag busybox 10.0.2.2:@MIRROR@/library/nginx:latest')\n"
        "r = sh('docker push 10.0.2.2:@MIRROR@/library/nginx:latest')\n"
        "if r.returncode == 0:\n    cheat()\nelse:\n    proof()\n",
        CACHE,
        outside=("mirror unchanged",),
    ),
    Attack(
        "pruner",
        "pruned and deleted shared images; swarm and plugin calls went through",
        "sh('docker pull nginx')\n"
        "sh('docker system prune -af')\n"
        "sh('docker rmi -f $(docker images -q)')\n"
        "sh('timeout 20 docker swarm init')\n"
        "proof()\n",
        CACHE,
        outside=("mirror unchanged",),
    ),
    Attack(
        "loopback-thief",
        "a container reached the host's 127.0.0.1 through its engine's gateway (10.0.2.2) "
        "and shut down another pool user's redis published there",
        "r = sh('docker run --rm busybox sh -c \"nc -w 3 10.0.2.2 @LOOPBACK@ </dev/null\"')\n"
        "if r.returncode == 0:\n    cheat()\n"
        "elif 'refused' in r.stderr + r.stdout:\n    proof()\n"
        "else:\n    raise SystemExit(r.stderr)\n",
        CACHE,
        outside=("loopback untouched",),
    ),
    Attack(
        "socket-table",
        "(round 2) the kernel read the host's socket table (/proc/1/net/tcp lists every "
        "listener with its owner's uid) to find another pool user's published port, and "
        "saw every user's processes",
        "def seen():\n"
        "    for pid in filter(str.isdigit, os.listdir('/proc')):\n"
        "        try:\n"
        "            yield pid, os.stat(f'/proc/{pid}').st_uid\n"
        "        except OSError:\n"
        "            pass\n"
        "root = [pid for pid, uid in seen() if uid == 0]\n"
        "tables = [t for t in ('/proc/1/net/tcp', f'/proc/{os.getppid()}/net/tcp')\n"
        "          if os.path.exists(t)]\n"
        "if root or tables:\n    cheat()\n"
        "else:\n    proof()\n",
        CACHE,
    ),
    Attack(
        "shared-port",
        "published redis on 127.0.0.1, as the lesson's hint said, where every user "
        "(and every other submission's container) reached it",
        "r = sh('docker run -d -p 127.0.0.1:0:6379 redis')\n"
        "if r.returncode == 0:\n    cheat()\n"
        "elif 'your own address' in r.stderr:\n    proof()\n"
        "else:\n    raise SystemExit(r.stderr)\n",
        CACHE,
    ),
    Attack(
        "forged-engine",
        "a container replaced the engine's socket with a fake Docker API, which the checks "
        "then read (6 of 9 with no real container)",
        "proof()\n"
        "uid = os.getuid()\n"
        "r = sh(f'docker run --rm -v /run/user/{uid}:/r busybox sh -c '\n"
        "       f'\"mv /r/docker.sock /r/real.sock && ln -s /nowhere /r/docker.sock\"')\n"
        "if r.returncode != 0:\n    raise SystemExit(r.stderr)\n",
        CACHE,
    ),
    Attack(
        "kernel-network",
        "(new) reached services on the grader's host from the kernel",
        "refused(lambda: socket.create_connection(('127.0.0.1', @MIRROR@), timeout=3), OSError)\n",
        CACHE,
    ),
    Attack(
        "engine-killer",
        "(new) killed its own engine mid-run",
        "sh('kill -9 $(pgrep -u $(id -u) dockerd)')\n",
        0,
    ),
    # -- resources ---------------------------------------------------------------------
    Attack(
        "forker",
        "200 background processes outlived grading",
        "for _ in range(200):\n"
        "    subprocess.Popen(['sleep', '1000'], start_new_session=True)\n"
        "proof()\n",
        CACHE,
    ),
    Attack(
        "fork-bomb",
        "(new) started processes until the machine had no more",
        "procs = []\n"
        "try:\n"
        "    while len(procs) < 5000:\n"
        "        procs.append(subprocess.Popen(['sleep', '1000']))\n"
        "except OSError:\n"
        "    for p in procs:\n"
        "        p.kill()\n"
        "        p.wait()\n"
        "    proof()\n"
        "else:\n"
        "    cheat()\n",
        CACHE,
    ),
    Attack(
        "big-file",
        "a 1 GiB file outlived grading",
        "def attempt():\n"
        "    with open('big', 'wb') as f:\n"
        "        for _ in range(1024):\n"
        "            f.write(b'x' * (1 << 20))\n"
        "            f.flush()\n"
        "try:\n"
        "    refused(attempt, OSError)\n"
        "finally:\n"
        "    os.remove('big')\n",
        CACHE,
    ),
    Attack(
        "tmp-leak",
        "(new) left files in /var/tmp and /dev/shm for later submissions",
        "for path in ('/var/tmp/dd-leak', '/dev/shm/dd-leak', '/tmp/dd-leak'):\n"
        "    open(path, 'w').write('x')\n"
        "refused(lambda: open('/etc/dd-leak', 'w'), OSError)\n",
        CACHE,
        outside=("no leaked files",),
    ),
    Attack(
        "container-leak",
        "(round 2) containers bind-mounted /tmp, /var/tmp and /dev/shm and left a 3 GiB "
        "file, a FIFO, a link and a set-uid program that the next batch's pool user owned; "
        "here 1 MiB of each kind, and the runtime folder and home too",
        "ran = 0\n"
        "for host in ('/tmp', '/var/tmp', '/dev/shm', os.environ['HOME'],\n"
        "             '/run/user/' + str(os.getuid())):\n"
        "    r = sh(f'docker run --rm -v {host}:/h busybox sh -c \"'\n"
        "           'head -c 1048576 /dev/zero > /h/dd-ctr-file && mkfifo /h/dd-ctr-fifo && '\n"
        "           'ln -s /etc/shadow /h/dd-ctr-link && cp /bin/busybox /h/dd-ctr-suid && '\n"
        "           'chmod 4755 /h/dd-ctr-suid\"')\n"
        "    ran += r.returncode == 0\n"
        "assert ran, 'no container ran'\n"
        "proof()  # the harm is seen from outside: whether the files outlive the batch\n",
        CACHE,
        outside=("no leaked files",),
    ),
    Attack(
        "nsenter",
        "(round 2) the kernel entered its own engine's user and mount namespaces with "
        "nsenter and wrote on the host, past its read-only confinement",
        "def engine_pids():\n"
        "    for pid in filter(str.isdigit, os.listdir('/proc')):\n"
        "        try:\n"
        "            st = os.stat(f'/proc/{pid}')\n"
        "            comm = open(f'/proc/{pid}/comm').read().strip()\n"
        "        except OSError:\n"
        "            continue\n"
        "        mine = st.st_uid == os.getuid()\n"
        "        if mine and comm in ('dockerd', 'rootlesskit', 'containerd'):\n"
        "            yield pid\n"
        "write = ('for d in /tmp /var/tmp /dev/shm $HOME /etc; do echo x > $d/dd-ns-leak; '\n"
        "         'cp /bin/busybox $d/dd-ns-suid && chmod 4755 $d/dd-ns-suid; done; true')\n"
        "for pid in engine_pids():\n"
        "    for flags in ('-U -m', '-U -m --preserve-credentials', '-m'):\n"
        "        sh(f'nsenter -t {pid} {flags} sh -c \"{write}\"')\n"
        "proof()  # the harm is seen from outside: whether the files outlive the batch\n",
        CACHE,
        outside=("no leaked files",),
    ),
    Attack(
        "fd-hog",
        "1000 idle connections took 2000 of the grader's file descriptors",
        "held = []\n"
        "def attempt():\n"
        "    for _ in range(5000):\n"
        "        held.append(open('/dev/null'))\n"
        "try:\n"
        "    attempt()\n"
        "except OSError:\n"
        "    for f in held:\n"
        "        f.close()\n"
        "    proof()\n"
        "else:\n"
        "    cheat()\n",
        CACHE,
    ),
    Attack(
        "privileges",
        "(new) gained root through a set-uid program",
        "status = open('/proc/self/status').read()\n"
        "if 'NoNewPrivs:\\t1' in status and sh('su -c id root </dev/null').returncode != 0:\n"
        "    proof()\nelse:\n    cheat()\n",
        CACHE,
    ),
    Attack(
        "memory-hog",
        "printing 200 MB took the grader from 84 MB to 866 MB; here the kernel itself grows",
        "proof()\nhog = []\nwhile True:\n    hog.append(bytearray(64 << 20))\n",
        CACHE,
        status="kernel-died",
        message=r"used all of its \d+ MB of memory",
    ),
    Attack(
        "cpu-burner",
        "(new) background processes spinning on the CPU after the cell returned",
        "proof()\n"
        "for _ in range(2):\n"
        "    subprocess.Popen([sys.executable, '-c', 'while True: pass'], "
        "start_new_session=True)\n"
        "time.sleep(25)\n",
        CACHE,
        status="timeout",
        message=r"used more than \d+ s of CPU time",
    ),
    Attack(
        "printer",
        "printed 200 MB into its outputs",
        "proof()\nfor _ in range(30_000):\n    sys.stdout.write('x' * 999 + '\\n')\n",
        CACHE,
        message=r"was cut at 100 kB",
    ),
    Attack(
        "big-messages",
        "a kernel sending 40 messages of 40 MB took the grader to 821 MB (only 100 kB kept): "
        "each was held whole before the output cap applied",
        "proof()\n"
        "from IPython.display import display\n"
        "for _ in range(40):\n"
        "    display({'text/plain': 'x' * (80 << 20)}, raw=True)\n",
        CACHE,
        status="kernel-died",
        message=r"sent a message over \d+ MB while cell \d+ of \d+ ran; its kernel was stopped",
    ),
)


VICTIM = "vic"
"""The learner the attacks aim at: an empty notebook, deserving nothing."""
HONEST = "honest"
"""A learner in the same batch with a complete notebook, deserving everything."""
EXPECTED_OTHERS = {VICTIM: 0, HONEST: FULL}

__all__ = ["ATTACKS", "EXPECTED_OTHERS", "HONEST", "PREAMBLE", "VICTIM", "Attack"]
