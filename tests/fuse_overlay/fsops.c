/* File operations the shell cannot do, for tests/fuse_overlay.rs:
 *   fsops dump DIR          one sorted-able line per entry: path, type, mode,
 *                           owner, size/nlink/content hash (non-directories),
 *                           link target, device, user.* xattrs
 *                           (user.overlay.* left out except opaque)
 *   fsops mmapw FILE OFF STR  write STR at OFF through a shared mapping
 *   fsops setx FILE NAME VAL  set an xattr;  fsops rmx FILE NAME
 *   fsops ino FILE          print st_ino
 *   fsops wait FILE         try to stat FILE, print errno name (fault test)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

static size_t root_len;

static uint64_t hash_file(const char *p) {
    uint64_t h = 1469598103934665603ULL;
    int fd = open(p, O_RDONLY | O_NOFOLLOW);
    if (fd < 0) return 0;
    unsigned char buf[65536];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        for (ssize_t i = 0; i < n; i++) { h ^= buf[i]; h *= 1099511628211ULL; }
    close(fd);
    return h;
}

static int visit(const char *p, const struct stat *st, int flag, struct FTW *f) {
    (void)flag; (void)f;
    const char *rel = p + root_len;
    if (!*rel) rel = "/";
    char t = '?';
    switch (st->st_mode & S_IFMT) {
    case S_IFDIR: t = 'd'; break; case S_IFREG: t = 'f'; break;
    case S_IFLNK: t = 'l'; break; case S_IFCHR: t = 'c'; break;
    case S_IFBLK: t = 'b'; break; case S_IFIFO: t = 'p'; break;
    case S_IFSOCK: t = 's'; break;
    }
    printf("%s %c %04o %u:%u", rel, t, st->st_mode & 07777, st->st_uid, st->st_gid);
    /* Whiteouts: the kernel overlay links them to one shared inode. */
    int wh = t == 'c' && st->st_rdev == 0;
    if (t != 'd' && !wh) printf(" size=%lld nlink=%lu", (long long)st->st_size, (unsigned long)st->st_nlink);
    if (t == 'f') printf(" h=%016llx", (unsigned long long)hash_file(p));
    if (t == 'l') { char b[4096]; ssize_t n = readlink(p, b, sizeof b - 1); if (n >= 0) { b[n] = 0; printf(" -> %s", b); } }
    if (t == 'c' || t == 'b') printf(" dev=%u:%u", major(st->st_rdev), minor(st->st_rdev));
    char names[8192];
    ssize_t n = llistxattr(p, names, sizeof names);
    for (ssize_t i = 0; n > 0 && i < n; i += strlen(names + i) + 1) {
        const char *nm = names + i;
        if (strncmp(nm, "user.", 5) != 0) continue;
        if (strncmp(nm, "user.overlay.", 13) == 0 && strcmp(nm, "user.overlay.opaque") != 0) continue;
        char v[4096];
        ssize_t m = lgetxattr(p, nm, v, sizeof v - 1);
        if (m < 0) m = 0;
        v[m] = 0;
        printf(" x:%s=%s", nm, v);
    }
    printf("\n");
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 3 && !strcmp(argv[1], "dump")) {
        root_len = strlen(argv[2]);
        return nftw(argv[2], visit, 64, FTW_PHYS) ? 1 : 0;
    }
    if (argc == 5 && !strcmp(argv[1], "mmapw")) {
        int fd = open(argv[2], O_RDWR);
        if (fd < 0) { perror("open"); return 1; }
        struct stat st; fstat(fd, &st);
        long off = atol(argv[3]);
        size_t len = strlen(argv[4]);
        if ((size_t)off + len > (size_t)st.st_size) { fprintf(stderr, "past the end\n"); return 1; }
        char *m = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (m == MAP_FAILED) { perror("mmap"); return 1; }
        memcpy(m + off, argv[4], len);
        if (msync(m, st.st_size, MS_SYNC)) { perror("msync"); return 1; }
        munmap(m, st.st_size);
        return close(fd) ? 1 : 0;
    }
    if (argc == 5 && !strcmp(argv[1], "setx")) {
        if (lsetxattr(argv[2], argv[3], argv[4], strlen(argv[4]), 0)) { perror("setxattr"); return 1; }
        return 0;
    }
    if (argc == 4 && !strcmp(argv[1], "rmx")) {
        if (lremovexattr(argv[2], argv[3])) { perror("removexattr"); return 1; }
        return 0;
    }
    if (argc == 3 && !strcmp(argv[1], "ino")) {
        struct stat st;
        if (lstat(argv[2], &st)) { perror("stat"); return 1; }
        printf("%llu\n", (unsigned long long)st.st_ino);
        return 0;
    }
    if (argc == 3 && !strcmp(argv[1], "stat")) {
        struct stat st;
        if (lstat(argv[2], &st)) { printf("%s\n", strerrorname_np(errno)); return 0; }
        printf("OK\n");
        return 0;
    }
    fprintf(stderr, "usage: fsops dump|mmapw|setx|rmx|ino|stat ...\n");
    return 2;
}
