#!/usr/bin/env python3
"""Writes valgrind.supp (next to this file): memcheck suppressions for the Go
runtime's noise, and nothing else. Run it after changing the lists below;
the file it writes is committed."""
import os

HEADER = """\
# valgrind memcheck suppressions for the C API tests (capi/test), used with
# --undef-value-errors=no (see the Makefile). Written by gen_valgrind_supp.py:
# change the lists there, not this file.
#
# The engine is Go, and memcheck cannot follow the Go runtime: goroutine
# stacks live in memory that Go maps, grows and moves itself, and Go
# switches stacks under memcheck's feet, so Go code reads and writes what
# memcheck believes is unaddressable. (It also loses track of definedness
# for everything that passed through a goroutine stack, which is why the
# Makefile turns undefined-value errors off altogether.)
#
# Every entry matches only an error whose innermost frame is Go code:
#   - a Go function, named "<import path>.<name>" (fun:*.*: the only names
#     with a dot);
#   - a Go assembly helper that has no package prefix (gogo, memeqbody...);
#   - cgo's glue that works on a goroutine stack: the "_cgoexp_" Go
#     wrappers, the "_cgo_<hash>_Cfunc_" C wrappers, _cgo_topofstack and
#     _cgo_sys_thread_start;
#   - p2p_set_error_ called from Go (runtime.asmcgocall), copying the message
#     out of a Go string; the same function reached otherwise still counts;
# plus one leak: go-pointer's 1-byte handle key, kept as a tombstone in a Go
# map that memcheck cannot see, so that it reads as lost.
#
# Not suppressed: invalid reads and writes in C code (the tests, libc, the
# shim's C functions), including those made inside the event callback, and
# every other definite leak (a C.malloc or C.CString in capi/*.go that is
# never freed shows with Go frames above malloc, and is reported).
# vg_canary.c checks that an invalid write in test code is still reported.
"""

# Every Go function is named "<import path>.<name>", with a dot no C
# function name has: one pattern covers them all (runtime.*, the standard
# library, ours). C compilers' clones (foo.isra.0) also carry a dot, but
# none of the C code checked here (tests, shim, libc's string functions)
# is cloned so; vg_canary checks that an invalid write in C is still seen.
GO_FUNCS = ["*.*"]
GO_ASM = [
    "gogo", "gosave_systemstack_switch", "aeshashbody", "memeqbody", "cmpbody", "countbody",
    "indexbytebody", "callRet", "gcWriteBarrier*", "debugCall*", "expandAVX512_*",
    "_expand_key_*", "_rt0_amd64*",
]
CGO_GLUE = ["_cgoexp_*", "_cgo_*_Cfunc_*", "_cgo_*_C2func_*", "_cgo_topofstack",
            "_cgo_sys_thread_start"]
# Syscalls the Go runtime makes with pointers into Go memory. memcheck matches
# a Param suppression's parameter name exactly, so each is listed.
SYSCALL_PARAMS = [
    "read(buf)", "write(buf)", "pread64(buf)", "pwrite64(buf)", "readv(vector)",
    "readv(vector[...])", "writev(vector)", "writev(vector[...])",
    "futex(futex)", "futex(timeout)", "futex(futex2)", "epoll_wait(events)", "epoll_pwait(events)",
    "epoll_ctl(event)", "rt_sigaction(act)", "rt_sigaction(oldact)", "rt_sigprocmask(set)",
    "rt_sigprocmask(oldset)", "sigaltstack(ss)", "sigaltstack(oss)", "nanosleep(req)",
    "nanosleep(rem)", "clock_gettime(tp)", "clock_nanosleep(req)", "getrandom(buf)", "getrandom(cpu)",
    # the fields of a socket address, as memcheck names them on some runs
    "socketcall.bind(my_addr.sa_family)", "socketcall.bind(my_addr.sin_port)", "socketcall.bind(my_addr.sin_addr)", "socketcall.bind(my_addr.sin6_port)", "socketcall.bind(my_addr.sin6_flowinfo)", "socketcall.bind(my_addr.sin6_addr)", "socketcall.bind(my_addr.sin6_scope_id)", "bind(my_addr.sa_family)", "bind(my_addr.sin_port)", "bind(my_addr.sin_addr)", "bind(my_addr.sin6_port)", "bind(my_addr.sin6_flowinfo)", "bind(my_addr.sin6_addr)", "bind(my_addr.sin6_scope_id)", "socketcall.connect(serv_addr.sa_family)", "socketcall.connect(serv_addr.sin_port)", "socketcall.connect(serv_addr.sin_addr)", "socketcall.connect(serv_addr.sin6_port)", "socketcall.connect(serv_addr.sin6_flowinfo)", "socketcall.connect(serv_addr.sin6_addr)", "socketcall.connect(serv_addr.sin6_scope_id)", "connect(serv_addr.sa_family)", "connect(serv_addr.sin_port)", "connect(serv_addr.sin_addr)", "connect(serv_addr.sin6_port)", "connect(serv_addr.sin6_flowinfo)", "connect(serv_addr.sin6_addr)", "connect(serv_addr.sin6_scope_id)",
    "stat(buf)", "stat(file_name)", "lstat(buf)", "lstat(file_name)", "renameat(oldpath)", "renameat(newpath)", "unlinkat(pathname)", "fchmodat(filename)", "fstatat(buf)", "fstatat(file_name)", "renameat2(oldpath)", "renameat2(newpath)", "mkdirat(pathname)", "faccessat(pathname)", "faccessat2(pathname)", "fchmod(mode)",
    "sched_getaffinity(mask)", "socketcall.connect(serv_addr)", "connect(serv_addr)",
    "bind(my_addr)", "accept(addr)", "accept4(addr)", "accept(addrlen_in)", "accept4(addrlen_in)",
    "accept(addrlen_out)", "accept4(addrlen_out)", "getsockname(name)", "getsockname(namelen_in)",
    "getsockname(namelen_out)", "getpeername(name)", "getpeername(namelen_in)",
    "getpeername(namelen_out)", "setsockopt(optval)", "getsockopt(optval)",
    "getsockopt(optlen)", "getsockopt(optlen_out)", "sendto(msg)", "sendto(to)",
    "recvfrom(buf)", "recvfrom(from)", "recvfrom(fromlen_in)", "recvfrom(fromlen_out)",
    "sendmsg(msg)", "recvmsg(msg)", "openat(filename)", "open(filename)", "readlinkat(path)",
    "readlinkat(buf)", "fstat(buf)", "newfstatat(file_name)", "newfstatat(buf)", "statx(file_name)",
    "statx(buf)", "pipe2(filedes)", "uname(buf)", "prlimit64(old_rlim)", "prlimit64(new_rlim)",
    "getrlimit(rlim)", "setrlimit(rlim)", "clone(child_tidptr)", "clone(parent_tidptr)",
    "clone(tlsinfo)", "set_robust_list(head)", "getdents64(dirp)", "getcwd(buf)",
    "sysinfo(info)", "madvise(start)", "mincore(vec)", "wait4(status)", "wait4(rusage)",
    "ioctl(generic)", "ioctl(SIOCOUTQ)", "fcntl(lock)", "timer_create(evp)", "timer_settime(value)",
    "timer_settime(ovalue)", "setitimer(value)", "setitimer(ovalue)", "tgkill", "gettid",
]
# The Go functions that make syscalls (all of them: see GO_FUNCS).
SYSCALL_FUNCS = GO_FUNCS
ADDR = ["Addr1", "Addr2", "Addr4", "Addr8", "Addr16", "Addr32"]


def name(pattern):
    return "".join(c if c.isalnum() else "_" for c in pattern)


def main():
    out = [HEADER]
    out.append("{\n   go-pointer-handle-key\n   Memcheck:Leak\n   match-leak-kinds: definite\n"
               "   fun:malloc\n   fun:_cgo_*_Cfunc__Cmalloc\n   ...\n   fun:p2p_node_new\n}")
    for pat in GO_FUNCS + GO_ASM + CGO_GLUE:
        for kind in ADDR:
            out.append("{\n   go-%s-%s\n   Memcheck:%s\n   fun:%s\n}" % (name(pat), kind, kind, pat))
    for pat in SYSCALL_FUNCS:
        for param in SYSCALL_PARAMS:
            out.append("{\n   go-%s-Param-%s\n   Memcheck:Param\n   %s\n   fun:%s\n}"
                       % (name(pat), name(param), param, pat))
    for kind in ADDR:
        out.append("{\n   shim-copies-go-string-%s\n   Memcheck:%s\n   fun:p2p_set_error_\n"
                   "   fun:runtime.asmcgocall*\n}" % (kind, kind))
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "valgrind.supp")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
