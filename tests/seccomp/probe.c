/* One system call per run, named by argv[1]; prints NAME=OK on success or
 * NAME=E<errno> on failure. Built static at test time (tests/seccomp.rs)
 * and run inside a container. Arguments are chosen so that, without a
 * seccomp filter, the kernel answers with something other than EPERM
 * where that is possible (bad pointers, unknown commands, /dev/null). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#ifndef SYS_fsopen
#define SYS_fsopen 430
#endif
#ifndef SYS_fsconfig
#define SYS_fsconfig 431
#endif
#ifndef SYS_fsmount
#define SYS_fsmount 432
#endif
#ifndef SYS_fspick
#define SYS_fspick 433
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef SYS_io_uring_setup
#define SYS_io_uring_setup 425
#endif
#ifndef SYS_io_uring_enter
#define SYS_io_uring_enter 426
#endif
#ifndef SYS_io_uring_register
#define SYS_io_uring_register 427
#endif

/* A fork through clone(2)/clone3(2) with extra flags: the child exits 0. */
static long forked(long ret) {
    if (ret == 0)
        _exit(0);
    if (ret > 0) {
        int st;
        waitpid((pid_t)ret, &st, 0);
    }
    return ret;
}

static long run(const char *n) {
    int null = open("/dev/null", O_RDWR);
    char c = 'x';
    if (!strcmp(n, "keyctl")) return syscall(SYS_keyctl, 0x7fff, 0, 0, 0, 0);
    if (!strcmp(n, "add_key")) return syscall(SYS_add_key, NULL, NULL, NULL, 0, 0);
    if (!strcmp(n, "request_key")) return syscall(SYS_request_key, NULL, NULL, NULL, 0);
    if (!strcmp(n, "userfaultfd")) return syscall(SYS_userfaultfd, -1);
    if (!strcmp(n, "bpf")) return syscall(SYS_bpf, 0xffff, NULL, 0);
    if (!strcmp(n, "perf_event_open")) return syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0);
#ifdef SYS_kexec_load
    if (!strcmp(n, "kexec_load")) return syscall(SYS_kexec_load, 0, 0, NULL, 0);
#endif
    if (!strcmp(n, "kexec_file_load")) return syscall(SYS_kexec_file_load, -1, -1, 0, NULL, 0);
    if (!strcmp(n, "io_uring_setup")) return syscall(SYS_io_uring_setup, 0, NULL);
    if (!strcmp(n, "io_uring_enter")) return syscall(SYS_io_uring_enter, -1, 0, 0, 0, NULL, 0);
    if (!strcmp(n, "io_uring_register")) return syscall(SYS_io_uring_register, -1, 0, NULL, 0);
    if (!strcmp(n, "open_by_handle_at")) return syscall(SYS_open_by_handle_at, -1, NULL, 0);
    if (!strcmp(n, "fsopen")) return syscall(SYS_fsopen, NULL, 0);
    if (!strcmp(n, "fsconfig")) return syscall(SYS_fsconfig, -1, 0, NULL, NULL, 0);
    if (!strcmp(n, "fsmount")) return syscall(SYS_fsmount, -1, 0, 0);
    if (!strcmp(n, "move_mount")) return syscall(SYS_move_mount, -1, NULL, -1, NULL, 0);
    if (!strcmp(n, "open_tree")) return syscall(SYS_open_tree, -1, NULL, 0);
    if (!strcmp(n, "fspick")) return syscall(SYS_fspick, -1, NULL, 0);
    if (!strcmp(n, "mount_setattr")) return syscall(SYS_mount_setattr, -1, NULL, 0, NULL, 0);
    if (!strcmp(n, "mount")) return syscall(SYS_mount, "none", "/nonexistent", "tmpfs", 0, NULL);
    if (!strcmp(n, "umount2")) return syscall(SYS_umount2, "/nonexistent", 0);
    if (!strcmp(n, "pivot_root")) return syscall(SYS_pivot_root, "/nonexistent", "/nonexistent");
    if (!strcmp(n, "swapon")) return syscall(SYS_swapon, "/nonexistent", 0);
    if (!strcmp(n, "swapoff")) return syscall(SYS_swapoff, "/nonexistent");
    if (!strcmp(n, "setns")) return syscall(SYS_setns, -1, 0);
    if (!strcmp(n, "kcmp")) return syscall(SYS_kcmp, getpid(), getpid(), 0 /* KCMP_FILE */, 0, 0);
    /* clone and unshare: with and without a namespace flag. */
    if (!strcmp(n, "clone_newuser")) return forked(syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0));
    if (!strcmp(n, "clone_newns")) return forked(syscall(SYS_clone, CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0));
    if (!strcmp(n, "clone_plain")) return forked(syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0));
    if (!strcmp(n, "clone3")) {
        uint64_t args[8] = {0};
        args[4] = SIGCHLD; /* exit_signal */
        return forked(syscall(SYS_clone3, args, sizeof args));
    }
    if (!strcmp(n, "unshare_newuser")) return syscall(SYS_unshare, CLONE_NEWUSER);
    if (!strcmp(n, "unshare_newtime")) return syscall(SYS_unshare, 0x80 /* CLONE_NEWTIME */);
    if (!strcmp(n, "unshare_plain")) return syscall(SYS_unshare, CLONE_FILES);
    /* personality: Docker's safe values only. */
    if (!strcmp(n, "personality_0")) return syscall(SYS_personality, 0);
    if (!strcmp(n, "personality_query")) return syscall(SYS_personality, 0xffffffffUL);
    if (!strcmp(n, "personality_bsd")) return syscall(SYS_personality, 0x6 /* PER_BSD */);
    if (!strcmp(n, "personality_norandom")) return syscall(SYS_personality, 0x0040000 /* ADDR_NO_RANDOMIZE */);
    /* socket: AF_ALG and AF_VSOCK denied, also with high bits set. */
    if (!strcmp(n, "socket_inet")) return syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
    if (!strcmp(n, "socket_unix")) return syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
    if (!strcmp(n, "socket_alg")) return syscall(SYS_socket, 38 /* AF_ALG */, SOCK_SEQPACKET, 0);
    if (!strcmp(n, "socket_alg_high")) return syscall(SYS_socket, 0x100000026UL, SOCK_SEQPACKET, 0);
    if (!strcmp(n, "socket_vsock")) return syscall(SYS_socket, 40 /* AF_VSOCK */, SOCK_STREAM, 0);
    /* ioctl: TIOCSTI and TIOCLINUX denied on the low 32 bits. */
    if (!strcmp(n, "ioctl_fioclex")) return syscall(SYS_ioctl, null, FIOCLEX);
    if (!strcmp(n, "ioctl_tiocsti")) return syscall(SYS_ioctl, null, TIOCSTI, &c);
    if (!strcmp(n, "ioctl_tiocsti_high")) return syscall(SYS_ioctl, null, 0x100005412UL, &c);
    if (!strcmp(n, "ioctl_tiocsti_high2")) return syscall(SYS_ioctl, null, 0xffffffff00005412UL, &c);
    if (!strcmp(n, "ioctl_tioclinux")) return syscall(SYS_ioctl, null, 0x541C, &c);
    if (!strcmp(n, "ioctl_tioclinux_high")) return syscall(SYS_ioctl, null, 0x10000541CUL, &c);
    fprintf(stderr, "probe: unknown check %s\n", n);
    _exit(2);
}

int main(int argc, char **argv) {
    /* Each check in a child of its own (glibc's fork is clone(2)), so that
     * one that works (unshare, personality) does not change the next. */
    for (int i = 1; i < argc; i++) {
        pid_t pid = fork();
        if (pid < 0) {
            perror("probe: fork");
            return 1;
        }
        if (pid == 0) {
            errno = 0;
            long r = run(argv[i]);
            if (r < 0)
                printf("%s=E%d\n", argv[i], errno);
            else
                printf("%s=OK\n", argv[i]);
            fflush(stdout);
            _exit(0);
        }
        int st;
        if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "probe: check %s did not finish\n", argv[i]);
            return 1;
        }
    }
    return 0;
}
