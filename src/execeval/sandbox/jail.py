"""Building the sandbox's world: once per run in the zygote, then per child.

Once (zygote, `enter`): new mount, network, IPC and UTS namespaces (inside a user
namespace when not root), and a new root file system on a tmpfs that holds read-only
binds of only what the interpreter needs: the system libraries, a few /etc files, a few
/dev nodes, the Python prefix and the grading environment's site-packages (`Packages`),
minus the packages that carry benchmark answers. Every other site-packages folder (the
harness's own, the base interpreter's, the system's) is hidden. The host's home
directories, its working directory, the run store and everything else simply do not exist.

Per child (`confine`): a PID namespace of its own (its descendants die with it), a mount
namespace with a fresh size-capped tmpfs as /scratch and working directory (gone with it, and
no other execution's to fill or read), a new session, rlimits, a per-slot uid (root) or no
capabilities (user namespace), and seccomp.
Whatever the kernel refuses is recorded in the report, never silently assumed.
"""

from __future__ import annotations

import glob
import importlib
import os
import resource
import signal
import sys
from dataclasses import dataclass, field
from typing import Any

from execeval.sandbox import linux, seccomp

# Site-packages entries never shown to programs: benchmark data with answers, and ourselves.
HARNESS_PACKAGES = ("execeval",)  # always hidden; benchmarks name theirs (Benchmark.hidden_packages)
SYSTEM_DIRS = ("/usr", "/lib", "/lib64", "/lib32", "/libx32", "/bin", "/sbin")
ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "passwd", "group",
             "nsswitch.conf", "hosts", "host.conf", "os-release", "mime.types")
DEV_NODES = ("null", "zero", "full", "random", "urandom")
UID_BASE = 1_700_000_000  # per-slot uids when root: far from any real account
# Writable scratch inside the private root. Not /tmp: a virtual environment under the host's
# /tmp (a CI clone in a temporary folder) is bound there and must stay visible.
SCRATCH = "/scratch"
CLEAN_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
             "HOME": SCRATCH, "TMPDIR": SCRATCH, "PYTHONHASHSEED": "0",
             "PYTHONDONTWRITEBYTECODE": "1", "OMP_NUM_THREADS": "1",
             "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@dataclass
class World:
    """What the zygote managed to set up; children read it, `sandbox check` prints it."""

    privilege: str = "none"            # root | user-namespace | none
    namespaces: list[str] = field(default_factory=list)   # run-wide: mount net ipc uts user
    private_root: bool = False         # the host's files are not visible
    pid_namespace: bool = False        # per child
    mount_namespace: bool = False      # per child: a tmpfs of its own as /scratch
    uid_drop: bool = False             # per child: a uid of its own (root) / no capabilities
    seccomp: bool = False
    problems: list[str] = field(default_factory=list)
    filter: bytes | None = None
    own_pid_ns: int = -1

    def report(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in ("filter", "own_pid_ns")}


def _bind(src: str, root: str, world: World) -> None:
    dst = root + src
    if os.path.islink(src):
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if not os.path.lexists(dst):
            os.symlink(os.readlink(src), dst)
        return
    if not os.path.exists(src) or (os.path.exists(dst) and os.path.ismount(dst)):
        return
    if os.path.isdir(src):
        os.makedirs(dst, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if not os.path.exists(dst):
            open(dst, "w").close()
    linux.mount(src, dst, None, linux.MS_BIND | linux.MS_REC)
    stats = os.statvfs(src)
    keep = 0
    for st_flag, ms_flag in ((os.ST_NOSUID, linux.MS_NOSUID), (os.ST_NODEV, linux.MS_NODEV),
                             (os.ST_NOEXEC, linux.MS_NOEXEC)):
        if stats.f_flag & st_flag:
            keep |= ms_flag
    linux.mount(None, dst, None, linux.MS_REMOUNT | linux.MS_BIND | linux.MS_RDONLY
                | linux.MS_NOSUID | keep)


@dataclass(frozen=True)
class Packages:
    """Where programs import third-party packages from: a grading environment's prefix (a
    virtual environment) and its site-packages folders. Empty: the standard library only."""

    prefix: str = ""
    site: tuple[str, ...] = ()


STDLIB_ONLY = Packages()


def use_packages(packages: Packages) -> None:
    """Make this interpreter (the zygote, before it binds or preloads anything) import from
    the standard library and `packages.site` only, never from the harness's site-packages;
    its children inherit that. `.pth` files add their folders, but their `import` lines are
    not run: nothing of the environment executes before the jail is up. The harness's
    modules already loaded (execeval itself, a setuptools hook) are forgotten, so a program
    cannot import them either; the zygote keeps the references it holds."""
    sys.path[:] = [p for p in sys.path if not _is_site(p)]
    sys.meta_path[:] = [f for f in sys.meta_path
                        if getattr(f, "__module__", "").startswith("_frozen_importlib")]
    for name, module in list(sys.modules.items()):
        where = getattr(module, "__file__", None)
        if (where and _is_site(os.path.dirname(where))) or name.split(".")[0] == "execeval":
            del sys.modules[name]
    for folder in packages.site:
        sys.path.append(folder)
        for pth in sorted(glob.glob(os.path.join(folder, "*.pth"))):
            with open(pth, encoding="utf-8", errors="replace") as f:
                for line in f:
                    line = line.strip()
                    extra = os.path.join(folder, line)
                    if line and not line.startswith(("#", "import ", "import\t")) \
                            and os.path.isdir(extra) and extra not in sys.path:
                        sys.path.append(extra)
    base_executable = getattr(sys, "_base_executable", sys.executable)
    sys.prefix = sys.exec_prefix = packages.prefix or sys.base_prefix
    sys.executable = os.path.join(packages.prefix, "bin", "python") if packages.prefix \
        else base_executable
    sys.path_importer_cache.clear()
    importlib.invalidate_caches()


def _is_site(path: str) -> bool:
    """A site-packages folder (or one inside it), or execeval's own source tree."""
    real = os.path.realpath(path) if path else ""
    parts = real.split(os.sep)
    own = _own_source()
    return "site-packages" in parts or "dist-packages" in parts or real == own or \
        real.startswith(own + os.sep)


def _own_source() -> str:
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _hide(path: str) -> None:
    linux.mount("tmpfs", path, "tmpfs", linux.MS_RDONLY | linux.MS_NOSUID | linux.MS_NODEV
                | linux.MS_NOEXEC, "size=4k,mode=000")


def python_paths() -> list[str]:
    """Directories the interpreter imports from, except the harness's own source."""
    own = _own_source()
    prefixes = {os.path.realpath(p) for p in (sys.base_prefix, sys.prefix, sys.exec_prefix)}
    paths = set(prefixes)
    for p in sys.path:  # site-packages elsewhere (a user site, a distribution's dist-packages)
        real = os.path.realpath(p) if p else ""
        if os.path.isdir(real) and real != own and real.endswith(("-packages", ".zip")):
            paths.add(real)
    # keep the outermost of nested paths
    return sorted(p for p in paths if not any(p != q and p.startswith(q + "/") for q in paths))


def _other_sites(allowed: list[str]) -> list[str]:
    """Site-packages folders of the bound prefixes and the system's that programs must not
    see (the base interpreter's, Debian's): hidden even though a program could name them."""
    found: set[str] = set()
    bases = {os.path.realpath(p) for p in (sys.base_prefix, sys.prefix, "/usr", "/usr/local")}
    for base in bases:
        for kind in ("site-packages", "dist-packages"):
            found.update(os.path.realpath(p) for p in
                         glob.glob(os.path.join(base, "lib*", "python*", kind)))
    keep = {os.path.realpath(p) for p in allowed}
    return sorted(p for p in found if p not in keep and not any(
        k.startswith(p + "/") for k in keep))


def _build_root(root: str, world: World, hidden: frozenset[str]) -> None:
    linux.mount(None, "/", None, linux.MS_REC | linux.MS_PRIVATE)
    linux.mount("tmpfs", root, "tmpfs", linux.MS_NOSUID | linux.MS_NODEV, "size=1m,mode=0755")
    for d in SYSTEM_DIRS:
        _bind(d, root, world)
    for name in ETC_FILES:
        _bind(os.path.join("/etc", name), root, world)
    os.makedirs(root + "/dev", exist_ok=True)
    for name in DEV_NODES:
        _bind(os.path.join("/dev", name), root, world)
    os.symlink(SCRATCH, root + "/dev/shm")  # POSIX semaphores land in the private scratch
    python = python_paths()
    for p in python:
        _bind(p, root, world)
    for p in python:
        _hide_packages(root + p, hidden)
    for p in _other_sites([p for p in sys.path if _is_site(p)]):
        if os.path.isdir(root + p):
            _hide(root + p)
    for d in ("tmp", "proc", SCRATCH.lstrip("/")):
        os.makedirs(os.path.join(root, d), mode=0o755, exist_ok=True)
    os.makedirs(root + "/.old", exist_ok=True)
    os.chdir(root)
    linux.pivot_root(".", ".old")
    os.chdir("/")
    linux.umount("/.old", linux.MNT_DETACH)
    os.rmdir("/.old")
    linux.mount(None, "/", None, linux.MS_REMOUNT | linux.MS_RDONLY | linux.MS_NOSUID
                | linux.MS_NODEV)


def _hide_packages(site: str, hidden: frozenset[str]) -> None:
    if not os.path.isdir(site):
        return
    for sub in _site_dirs(site):
        for name in os.listdir(sub):
            stem = name.split("-")[0].split(".")[0].lower()
            full = os.path.join(sub, name)
            if stem in hidden and os.path.isdir(full) and not os.path.islink(full):
                _hide(full)


def _site_dirs(top: str) -> list[str]:
    if os.path.basename(top) in ("site-packages", "dist-packages"):
        return [top]
    found = []
    for dirpath, dirnames, _ in os.walk(top):
        for d in list(dirnames):
            if d in ("site-packages", "dist-packages"):
                found.append(os.path.join(dirpath, d))
                dirnames.remove(d)
        if dirpath.count("/") - top.count("/") >= 3:
            dirnames.clear()
    return found


def enter(root: str, hidden: tuple[str, ...] = ()) -> World:
    """Set up the run-wide namespaces and private root in the calling (zygote) process;
    the installed packages named in `hidden` (and execeval itself) are left out of it."""
    world = World()
    uid, gid = os.getuid(), os.getgid()
    flags = linux.CLONE_NEWNS | linux.CLONE_NEWNET | linux.CLONE_NEWIPC | linux.CLONE_NEWUTS
    names = ["mount", "network", "ipc", "uts"]
    try:
        if uid == 0:
            linux.unshare(flags)
            world.privilege = "root"
        else:
            linux.prctl(linux.PR_SET_DUMPABLE, 1)  # else /proc/self/uid_map is root's after setuid
            linux.unshare(flags | linux.CLONE_NEWUSER | linux.CLONE_NEWPID)
            _write("/proc/self/setgroups", "deny")
            _write("/proc/self/uid_map", f"{uid} {uid} 1")
            _write("/proc/self/gid_map", f"{gid} {gid} 1")
            _become_pid_one()
            world.privilege = "user-namespace"
            names.insert(0, "user")
        world.namespaces = names
    except OSError as e:
        world.problems.append(f"namespaces unavailable ({e.strerror}): no network, mount or "
                              "pid isolation; host files are protected by permissions only")
    if world.privilege != "none":
        world.pid_namespace = _probe_pid_namespace(world)
        try:
            _build_root(root, world, frozenset(HARNESS_PACKAGES + hidden))
            world.private_root = True
        except OSError as e:
            world.problems.append(f"private root failed ({e}): host files are visible")
        world.mount_namespace = world.private_root
    world.uid_drop = world.privilege != "none"
    world.filter = seccomp.build_filter()
    world.seccomp = world.filter is not None
    if world.filter is None:
        world.problems.append("seccomp: syscall table unknown on this architecture")
    return world


def _become_pid_one() -> None:
    """Continue as pid 1 of a PID namespace our user namespace owns: only there may we
    later create one per child (setns back to the host's would need real privilege)."""
    pid = os.fork()
    if pid:
        _, status = os.waitpid(pid, 0)
        os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
    linux.prctl(linux.PR_SET_PDEATHSIG, signal.SIGKILL)


def _probe_pid_namespace(world: World) -> bool:
    try:
        world.own_pid_ns = os.open("/proc/self/ns/pid", os.O_RDONLY)
        new_pid_namespace(world)
        linux.setns(world.own_pid_ns, linux.CLONE_NEWPID)  # until a child needs one
        return True
    except OSError as e:
        world.problems.append(f"pid namespace unavailable ({e.strerror}): descendants are "
                              "killed by session only")
        return False


def new_pid_namespace(world: World) -> None:
    """Make the caller's next child pid 1 of a new PID namespace (unshare alone works once)."""
    linux.setns(world.own_pid_ns, linux.CLONE_NEWPID)
    linux.unshare(linux.CLONE_NEWPID)


def _write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


@dataclass(frozen=True)
class ChildLimits:
    cpu_seconds: int
    memory_mb: int
    max_open_files: int
    max_file_mb: int
    max_processes: int
    max_scratch_mb: int


def confine(world: World, limits: ChildLimits, slot: int, scratch: str | None,
            keep_fds: tuple[int, int]) -> tuple[int, int]:
    """Runs in the child right after fork; returns the protocol fds (moved to 3 and 4)."""
    linux.prctl(linux.PR_SET_PDEATHSIG, signal.SIGKILL)
    signal.set_wakeup_fd(-1)
    for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an oversized write raises instead of dying
    os.setsid()
    uid = UID_BASE + slot if world.privilege == "root" else os.getuid()
    gid = uid if world.privilege == "root" else os.getgid()
    if world.mount_namespace:
        linux.unshare(linux.CLONE_NEWNS)
        linux.mount("tmpfs", SCRATCH, "tmpfs", linux.MS_NOSUID | linux.MS_NODEV,
                    f"size={limits.max_scratch_mb}m,nr_inodes=4096,mode=0700,uid={uid},gid={gid}")
        scratch = SCRATCH
    assert scratch is not None
    os.chdir(scratch)
    rfd, wfd = keep_fds
    null = os.open("/dev/null", os.O_RDWR)
    os.dup2(rfd, 100)
    os.dup2(wfd, 101)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.dup2(100, 3)
    os.dup2(101, 4)
    os.closerange(5, 65536)
    megabyte = 2**20
    # under a user namespace every execution shares one uid: the count is per run there
    nproc = limits.max_processes * (1 if world.privilege == "root" else 16)
    for what, value in ((resource.RLIMIT_AS, limits.memory_mb * megabyte),
                        (resource.RLIMIT_CPU, limits.cpu_seconds),
                        (resource.RLIMIT_NOFILE, limits.max_open_files),
                        (resource.RLIMIT_FSIZE, limits.max_file_mb * megabyte),
                        (resource.RLIMIT_CORE, 0),
                        (resource.RLIMIT_NPROC, nproc)):
        resource.setrlimit(what, (value, value))
    os.environ.clear()
    os.environ.update(CLEAN_ENV, HOME=scratch, TMPDIR=scratch)
    if world.privilege == "root":
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
    elif world.privilege == "user-namespace":
        linux.drop_capabilities()
    if world.filter is not None:
        seccomp.install(world.filter)
    else:
        linux.prctl(linux.PR_SET_NO_NEW_PRIVS, 1)
    return 3, 4
