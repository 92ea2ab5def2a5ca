/* Attacks that need a system call busybox cannot make, run as
 * `escape CHECK [ARG]`; prints CHECK=OK on success or CHECK=E<errno>.
 * Built with the host's `gcc -static` at test time (tests/attacks/main.rs).
 *
 *   ptrace_attach PID   PTRACE_ATTACH to PID (coracle's init as pid 1)
 *   ptrace_child        PTRACE_ATTACH to a child of our own (allowed)
 *   mount_proc DIR      mount a new procfs on DIR (over the masked /proc)
 *   mount_sysfs DIR     mount a new sysfs on DIR
 *   fsopen_proc         the new mount API: fsopen("proc")
 *   euid                print euid=N (a setuid copy shows whether exec
 *                       raised it: no_new_privs)
 *   int80               getpid through the i386 entry (x86_64 only): the
 *                       default filter kills the process (SIGSYS)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int report(const char *name, long ret) {
    if (ret < 0)
        printf("%s=E%d\n", name, errno);
    else
        printf("%s=OK\n", name);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: escape CHECK [ARG]\n");
        return 2;
    }
    const char *n = argv[1];
    const char *arg = argc > 2 ? argv[2] : "";
    if (!strcmp(n, "ptrace_attach")) {
        pid_t pid = atoi(arg);
        long r = ptrace(PTRACE_ATTACH, pid, NULL, NULL);
        int e = errno;
        if (r == 0) {
            waitpid(pid, NULL, __WALL);
            ptrace(PTRACE_DETACH, pid, NULL, NULL);
        }
        errno = e;
        return report(n, r);
    }
    if (!strcmp(n, "ptrace_child")) {
        pid_t pid = fork();
        if (pid == 0) {
            pause();
            _exit(0);
        }
        long r = ptrace(PTRACE_ATTACH, pid, NULL, NULL);
        int e = errno;
        if (r == 0) {
            waitpid(pid, NULL, 0);
            ptrace(PTRACE_DETACH, pid, NULL, NULL);
        }
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        errno = e;
        return report(n, r);
    }
    if (!strcmp(n, "mount_proc"))
        return report(n, mount("proc", arg, "proc", 0, NULL));
    if (!strcmp(n, "mount_sysfs"))
        return report(n, mount("sysfs", arg, "sysfs", 0, NULL));
    if (!strcmp(n, "fsopen_proc"))
        return report(n, syscall(SYS_fsopen, "proc", 0));
    if (!strcmp(n, "euid")) {
        printf("euid=%d\n", (int)geteuid());
        return 0;
    }
    if (!strcmp(n, "int80")) {
#if defined(__x86_64__)
        long r;
        __asm__ volatile("int $0x80" : "=a"(r) : "a"(20L /* i386 getpid */) : "memory");
        printf("int80=%s\n", r > 0 ? "OK" : "E");
        return 0;
#else
        printf("int80=unsupported\n");
        return 0;
#endif
    }
    fprintf(stderr, "unknown check %s\n", n);
    return 2;
}
