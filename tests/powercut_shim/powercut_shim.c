/* Test-only LD_PRELOAD shim that lets a test cut the power: every write a process makes
 * to a file under DEPOT_POWERCUT_DIR that has not been made durable by fsync() or
 * fdatasync() yet can be undone afterwards, as a power loss would lose it.
 *
 * Before each pwrite()/pwrite64()/write()/ftruncate()/ftruncate64() to such a file (the
 * calls Debian's libsqlite3 writes with; writev, fallocate and writes through mmap are
 * not seen), the shim appends an undo record to DEPOT_POWERCUT_LOG/<path with '/' as
 * '%'>: the offset, the file's size, and the bytes about to be overwritten. A
 * successful fsync()/fdatasync() of the file, through any descriptor, empties its log:
 * everything written so far is on disk; unlink() of the file drops its log. After the
 * process is killed with SIGKILL (the page cache survives that, a power cut does not),
 * depot_testlib.power_cut_restore() replays every log backwards, which puts each file
 * back exactly as it was at its last sync. The model is the worst case a durable system
 * must survive: nothing unsynced reaches the disk. Directory entries (creation, rename,
 * unlink) and SQLite's -shm (rebuilt from the WAL by the next opener) are not modelled,
 * and the logs are per process: one preloaded process at a time.
 *
 * Record: struct undo_head, then `saved` bytes (the old contents of [offset,
 * offset + saved)). Never linked into the product; preloaded by
 * depot_testlib.powercut_env() (after the ASan runtime in sanitizer builds). */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct undo_head {
    uint64_t magic;    /* UNDO_MAGIC */
    uint64_t offset;   /* where the write (or the truncation) starts */
    uint64_t old_size; /* the file's size before it */
    uint64_t saved;    /* old bytes that follow this header */
};
#define UNDO_MAGIC 0x31646e7574756370ULL /* "pcutund1" */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

#define REAL(ret, name, ...)                                                            \
    static ret (*real_##name)(__VA_ARGS__);                                             \
    if (!real_##name)                                                                   \
        real_##name = (ret (*)(__VA_ARGS__))dlsym(RTLD_NEXT, #name)

static ssize_t raw_pread(int fd, void *buf, size_t n, off_t off)
{
    REAL(ssize_t, pread64, int, void *, size_t, off_t);
    return real_pread64(fd, buf, n, off);
}

static ssize_t raw_write(int fd, const void *buf, size_t n)
{
    REAL(ssize_t, write, int, const void *, size_t);
    return real_write(fd, buf, n);
}

/* The undo log of fd's file into log (PATH_MAX), or 0 if the file is not tracked. */
static int log_path(int fd, char *log)
{
    const char *dir = getenv("DEPOT_POWERCUT_DIR"), *logs = getenv("DEPOT_POWERCUT_LOG");
    char link[64], path[PATH_MAX];
    if (!dir || !logs || !dir[0])
        return 0;
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n <= 0)
        return 0;
    path[n] = '\0';
    size_t d = strlen(dir);
    if (strncmp(path, dir, d) != 0 || path[d] != '/' ||
        (n > 4 && strcmp(path + n - 4, "-shm") == 0))
        return 0;
    int k = snprintf(log, PATH_MAX, "%s/", logs);
    if (k < 0 || (size_t)k + (size_t)n >= PATH_MAX) {
        fprintf(stderr, "powercut_shim: path too long to log: %s\n", path);
        abort();
    }
    for (const char *p = path; *p; p++)
        log[k++] = *p == '/' ? '%' : *p;
    log[k] = '\0';
    return 1;
}

/* The log of a path under DEPOT_POWERCUT_DIR (as log_path), or 0. */
static int log_of_path(const char *path, char *log)
{
    int fd = open(path, O_PATH | O_CLOEXEC);
    if (fd < 0)
        return 0;
    int tracked = log_path(fd, log);
    close(fd);
    return tracked;
}

/* Records what [offset, offset + len) of the file logged at log holds now (and its
 * size), before it is overwritten or cut. Aborts the process if the record cannot be
 * kept: a test that silently lost its undo information would prove nothing. */
static void remember(int fd, const char *log, uint64_t offset, uint64_t len)
{
    struct stat st;
    if (fstat(fd, &st) != 0) {
        fprintf(stderr, "powercut_shim: cannot stat the file of %s\n", log);
        abort();
    }
    uint64_t size = (uint64_t)st.st_size;
    struct undo_head h = {UNDO_MAGIC, offset, size, 0};
    if (offset < size)
        h.saved = (offset + len < size ? offset + len : size) - offset;
    char *old = h.saved ? malloc(h.saved) : NULL, self[64];
    snprintf(self, sizeof self, "/proc/self/fd/%d", fd); /* fd may be write-only */
    int in = h.saved ? open(self, O_RDONLY | O_CLOEXEC) : -1;
    int out = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if ((h.saved && (!old || in < 0 ||
                     raw_pread(in, old, h.saved, (off_t)offset) != (ssize_t)h.saved)) ||
        out < 0 || raw_write(out, &h, sizeof h) != (ssize_t)sizeof h ||
        (h.saved && raw_write(out, old, h.saved) != (ssize_t)h.saved)) {
        fprintf(stderr, "powercut_shim: cannot keep the undo record %s\n", log);
        abort();
    }
    if (in >= 0)
        close(in);
    close(out);
    free(old);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
    REAL(ssize_t, pwrite64, int, const void *, size_t, off_t);
    char log[PATH_MAX];
    if (!log_path(fd, log))
        return real_pwrite64(fd, buf, n, off);
    struct stat st;
    pthread_mutex_lock(&lock);
    uint64_t at = (uint64_t)off; /* Linux appends a pwrite() on an O_APPEND descriptor */
    if ((fcntl(fd, F_GETFL) & O_APPEND) && fstat(fd, &st) == 0)
        at = (uint64_t)st.st_size;
    remember(fd, log, at, n);
    ssize_t r = real_pwrite64(fd, buf, n, off);
    pthread_mutex_unlock(&lock);
    return r;
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    return pwrite64(fd, buf, n, off);
}

ssize_t write(int fd, const void *buf, size_t n)
{
    char log[PATH_MAX];
    if (!log_path(fd, log))
        return raw_write(fd, buf, n);
    pthread_mutex_lock(&lock);
    off_t at = lseek(fd, 0, SEEK_CUR);
    struct stat st;
    if (at < 0) {
        fprintf(stderr, "powercut_shim: cannot tell where a write to %s goes\n", log);
        abort();
    }
    if ((fcntl(fd, F_GETFL) & O_APPEND) && fstat(fd, &st) == 0)
        at = st.st_size;
    remember(fd, log, (uint64_t)at, n);
    ssize_t r = raw_write(fd, buf, n);
    pthread_mutex_unlock(&lock);
    return r;
}

int ftruncate64(int fd, off_t len)
{
    REAL(int, ftruncate64, int, off_t);
    char log[PATH_MAX];
    struct stat st;
    if (!log_path(fd, log))
        return real_ftruncate64(fd, len);
    pthread_mutex_lock(&lock);
    uint64_t cut = fstat(fd, &st) == 0 && len < st.st_size ? (uint64_t)(st.st_size - len) : 0;
    remember(fd, log, (uint64_t)len, cut);
    int r = real_ftruncate64(fd, len);
    pthread_mutex_unlock(&lock);
    return r;
}

int ftruncate(int fd, off_t len)
{
    return ftruncate64(fd, len);
}

/* After a successful sync of fd's file: its log is emptied (nothing left to undo). */
static int synced(int fd, int r)
{
    char log[PATH_MAX];
    if (r == 0 && log_path(fd, log) && truncate(log, 0) != 0 && errno != ENOENT) {
        fprintf(stderr, "powercut_shim: cannot empty the undo log %s\n", log);
        abort();
    }
    return r;
}

int fdatasync(int fd)
{
    REAL(int, fdatasync, int);
    pthread_mutex_lock(&lock);
    int r = synced(fd, real_fdatasync(fd));
    pthread_mutex_unlock(&lock);
    return r;
}

int fsync(int fd)
{
    REAL(int, fsync, int);
    pthread_mutex_lock(&lock);
    int r = synced(fd, real_fsync(fd));
    pthread_mutex_unlock(&lock);
    return r;
}

/* A removed file's unsynced writes are gone with it: its log goes too, so that a file
 * created later under the same name is never "restored" from it. */
int unlink(const char *path)
{
    REAL(int, unlink, const char *);
    char log[PATH_MAX];
    pthread_mutex_lock(&lock);
    int tracked = log_of_path(path, log);
    int r = real_unlink(path);
    if (r == 0 && tracked && real_unlink(log) != 0 && errno != ENOENT) {
        fprintf(stderr, "powercut_shim: cannot drop the undo log %s\n", log);
        abort();
    }
    pthread_mutex_unlock(&lock);
    return r;
}
