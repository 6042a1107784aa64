/* Test-only LD_PRELOAD shim that lets libserialport open Linux pseudo-terminals, so the
 * integration tests drive the product's real serial code path on PTYs.
 *
 * libserialport 0.1.1 refuses PTYs twice: sp_get_port_by_name() looks the device up in
 * sysfs (/sys/class/tty/pts/N does not exist), and sp_open() reads the modem-control
 * lines, which PTYs refuse ("Inappropriate ioctl for device"). This shim answers both
 * for PTY slaves only (/dev/pts/N, character major 136..143) and passes every other call
 * through to libc: lstat() (glibc's old __lxstat entry point, which libserialport 0.1.1
 * calls) of /sys/class/tty/pts/N reports a symlink and readlink() of it gives a made-up
 * sysfs target; TIOCMGET/TIOCMSET/TIOCMBIS/TIOCMBIC act on a per-process modem-line word
 * (DSR, CTS and CD reported as up). No /dev symlink is needed: depot_serial_open()
 * resolves a port's symlinks to /dev/pts/N first, as it does for /dev/serial/by-id/.
 * Linux PTYs force CS8 and clear PARENB whatever is asked, so with
 * DEPOT_PTY_SHIM_TERMIOS_LOG set the shim also appends, for every tcsetattr() on a PTY
 * slave, the line settings that were asked for ("pts/N data=7 parity=E stop=2
 * rtscts=1"), for tests to check what the product requested.
 * Never linked into the product; depot_testlib.pty_shim_env() preloads it (after the
 * ASan runtime in sanitizer builds). */
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#define PTY_SLAVE_MAJOR_FIRST 136
#define PTY_SLAVE_MAJOR_LAST 143
#define SYSFS_PTS "/sys/class/tty/pts/"

static int modem_lines = TIOCM_DSR | TIOCM_CTS | TIOCM_CAR | TIOCM_DTR | TIOCM_RTS;

static int is_pty_slave(const struct stat *st)
{
    return S_ISCHR(st->st_mode) && major(st->st_rdev) >= PTY_SLAVE_MAJOR_FIRST &&
           major(st->st_rdev) <= PTY_SLAVE_MAJOR_LAST;
}

int ioctl(int fd, unsigned long request, ...);
int ioctl(int fd, unsigned long request, ...)
{
    static int (*real_ioctl)(int, unsigned long, ...);
    va_list ap;
    va_start(ap, request);
    void *arg = va_arg(ap, void *);
    va_end(ap);

    if (request == TIOCMGET || request == TIOCMSET || request == TIOCMBIS ||
        request == TIOCMBIC) {
        struct stat st;
        if (fstat(fd, &st) == 0 && is_pty_slave(&st)) {
            int *bits = arg;
            if (!bits) {
                errno = EFAULT;
                return -1;
            }
            if (request == TIOCMGET)
                *bits = modem_lines;
            else if (request == TIOCMSET)
                modem_lines = *bits;
            else if (request == TIOCMBIS)
                modem_lines |= *bits;
            else
                modem_lines &= ~*bits;
            return 0;
        }
    }
    if (!real_ioctl)
        real_ioctl = (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT, "ioctl");
    return real_ioctl(fd, request, arg);
}

/* "pts/N" of a /sys/class/tty/pts/N path whose /dev/pts/N is a live PTY slave, else
 * NULL. */
static const char *sysfs_pty_name(const char *path)
{
    if (strncmp(path, SYSFS_PTS, strlen(SYSFS_PTS)) != 0)
        return NULL;
    const char *n = path + strlen(SYSFS_PTS);
    char dev[64];
    struct stat st;
    if (!*n || strlen(n) >= 16 || strchr(n, '/'))
        return NULL;
    snprintf(dev, sizeof dev, "/dev/pts/%s", n);
    if (stat(dev, &st) != 0 || !is_pty_slave(&st))
        return NULL;
    return n;
}

int __lxstat(int ver, const char *path, struct stat *buf);
int __lxstat(int ver, const char *path, struct stat *buf)
{
    static int (*real_lxstat)(int, const char *, struct stat *);
    if (sysfs_pty_name(path)) {
        memset(buf, 0, sizeof *buf);
        buf->st_mode = S_IFLNK | 0777;
        return 0;
    }
    if (!real_lxstat)
        real_lxstat = (int (*)(int, const char *, struct stat *))dlsym(RTLD_NEXT,
                                                                        "__lxstat");
    return real_lxstat(ver, path, buf);
}

ssize_t readlink(const char *restrict path, char *restrict buf, size_t size)
{
    static ssize_t (*real_readlink)(const char *, char *, size_t);
    const char *n = sysfs_pty_name(path);
    if (n) {
        char target[64];
        int len = snprintf(target, sizeof target, "../../devices/pty-shim/pts/%s", n);
        size_t copy = (size_t)len < size ? (size_t)len : size;
        memcpy(buf, target, copy);
        return (ssize_t)copy;
    }
    if (!real_readlink)
        real_readlink = (ssize_t (*)(const char *, char *, size_t))dlsym(RTLD_NEXT,
                                                                          "readlink");
    return real_readlink(path, buf, size);
}

/* Appends the requested line settings of a PTY slave to $DEPOT_PTY_SHIM_TERMIOS_LOG. */
static void log_termios(int fd, const struct termios *t)
{
    const char *log = getenv("DEPOT_PTY_SHIM_TERMIOS_LOG");
    struct stat st;
    char name[64];
    if (!log || fstat(fd, &st) != 0 || !is_pty_slave(&st) || ttyname_r(fd, name, sizeof name))
        return;
    static const int sizes[] = {5, 6, 7, 8};
    tcflag_t c = t->c_cflag;
    FILE *f = fopen(log, "a");
    if (!f)
        return;
    fprintf(f, "%s data=%d parity=%c stop=%d rtscts=%d\n",
            strncmp(name, "/dev/", 5) == 0 ? name + 5 : name,
            sizes[(c & CSIZE) == CS5 ? 0 : (c & CSIZE) == CS6 ? 1 : (c & CSIZE) == CS7 ? 2 : 3],
            !(c & PARENB) ? 'N' : (c & PARODD) ? 'O' : 'E', (c & CSTOPB) ? 2 : 1,
            (c & CRTSCTS) ? 1 : 0);
    fclose(f);
}

int tcsetattr(int fd, int actions, const struct termios *t)
{
    static int (*real_tcsetattr)(int, int, const struct termios *);
    if (t)
        log_termios(fd, t);
    if (!real_tcsetattr)
        real_tcsetattr = (int (*)(int, int, const struct termios *))dlsym(RTLD_NEXT,
                                                                           "tcsetattr");
    return real_tcsetattr(fd, actions, t);
}
