"""A seccomp filter built once as raw BPF (no libseccomp needed) and loaded in every child.

It refuses the system calls a program needs only to attack: tracing or reading other
processes' memory, namespaces and mounts, kernel keyrings, BPF, io_uring, SysV and POSIX
message IPC that could outlive the program, and `socket()` of every family (AF_UNIX too: an
abstract unix socket would let two concurrent executions talk; `socketpair`, which asyncio
and multiprocessing pipes use, stays). Everything else is allowed, so ordinary Python keeps
working.
"""

from __future__ import annotations

import ctypes
import errno
import platform
import struct

from execeval.sandbox import linux

AUDIT_ARCH_X86_64 = 0xC000003E
RET_ALLOW = 0x7FFF0000
RET_KILL_PROCESS = 0x80000000
X32_BIT = 0x40000000

# x86_64 numbers: name -> nr
DENIED = {
    "shmget": 29, "semget": 64, "msgget": 68, "ptrace": 101,
    "pivot_root": 155, "chroot": 161, "acct": 163, "mount": 165, "umount2": 166,
    "swapon": 167, "swapoff": 168, "reboot": 169, "init_module": 175, "delete_module": 176,
    "lookup_dcookie": 212, "mq_open": 240, "kexec_load": 246, "add_key": 248,
    "request_key": 249, "keyctl": 250, "unshare": 272, "perf_event_open": 298,
    "name_to_handle_at": 303, "open_by_handle_at": 304, "setns": 308,
    "process_vm_readv": 310, "process_vm_writev": 311, "finit_module": 313,
    "kexec_file_load": 320, "bpf": 321, "userfaultfd": 323, "io_uring_setup": 425,
    "io_uring_enter": 426, "io_uring_register": 427, "open_tree": 428, "move_mount": 429,
    "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433, "pidfd_getfd": 438,
    "mount_setattr": 442,
}
SOCKET, CLONE, CLONE3 = 41, 56, 435


def _op(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("HBBI", code, jt, jf, k)


LD_ABS, JEQ, JGE, JSET, RET = 0x20, 0x15, 0x35, 0x45, 0x06


def _errno(e: int) -> int:
    return 0x00050000 | e


def build_filter() -> bytes | None:
    """The filter program, or None where this machine's syscall numbers are not known."""
    if platform.machine() != "x86_64":
        return None
    prog = [_op(LD_ABS, 4), _op(JEQ, AUDIT_ARCH_X86_64, 1, 0), _op(RET, RET_KILL_PROCESS),
            _op(LD_ABS, 0), _op(JGE, X32_BIT, 0, 1), _op(RET, _errno(errno.ENOSYS))]
    for nr in sorted(DENIED.values()):
        prog += [_op(JEQ, nr, 0, 1), _op(RET, _errno(errno.EPERM))]
    # clone3 passes its flags in memory, which a filter cannot read: glibc falls back to clone
    prog += [_op(JEQ, CLONE3, 0, 1), _op(RET, _errno(errno.ENOSYS))]
    prog += [_op(JEQ, SOCKET, 0, 1), _op(RET, _errno(errno.EACCES))]
    prog += [_op(JEQ, CLONE, 0, 4), _op(LD_ABS, 16), _op(JSET, linux.NAMESPACE_FLAGS, 0, 1),
             _op(RET, _errno(errno.EPERM)), _op(RET, RET_ALLOW)]
    prog.append(_op(RET, RET_ALLOW))
    return b"".join(prog)


class _SockFprog(ctypes.Structure):
    _fields_ = (("len", ctypes.c_ushort), ("filter", ctypes.c_char_p))


def install(program: bytes) -> None:
    """Load the filter into the calling process (irreversible; inherited by its children)."""
    linux.prctl(linux.PR_SET_NO_NEW_PRIVS, 1)
    fprog = _SockFprog(len(program) // 8, program)
    linux._check(linux._libc.prctl(ctypes.c_int(linux.PR_SET_SECCOMP),
                                   ctypes.c_ulong(linux.SECCOMP_MODE_FILTER),
                                   ctypes.byref(fprog), ctypes.c_ulong(0), ctypes.c_ulong(0)),
                 "seccomp")
