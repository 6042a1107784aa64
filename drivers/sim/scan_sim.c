/* depot-scan-sim: a serial barcode scanner on a pseudo-terminal, for `make demo`, the
 * tests and the benchmark. It publishes the PTY at a stable symlink (as udev does with
 * /dev/serial/by-id/...) and "scans" each line it is given: from its control FIFO
 * (LINK.in, where `depotctl scan` writes) or, with --stdin, from standard input.
 *
 *   depot-scan-sim --link PATH [--suffix cr|lf|crlf|none] [--stdin]
 *
 * A line is sent as it is plus the suffix, after decoding the escapes \xHH (e.g. \x1d for
 * FNC1/GS), \r, \n, \t and \\, so "]C101040063813339311\x1d10LOT" is a GS1-128 scan with
 * its AIM identifier. It prints "ready LINK -> /dev/pts/N" when the port exists, and on
 * SIGTERM/SIGINT, when its parent exits (the demo's depotd) or at the end of --stdin
 * removes the link and the FIFO: the scanner is unplugged. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#define LINE_MAX_BYTES 4096

static volatile sig_atomic_t stopping;

static void on_stop(int sig)
{
    (void)sig;
    stopping = 1;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes the escapes of line (in place); returns the byte count. */
static size_t unescape(char *line)
{
    size_t o = 0;
    for (size_t i = 0; line[i]; i++) {
        if (line[i] != '\\' || !line[i + 1]) {
            line[o++] = line[i];
            continue;
        }
        char e = line[++i];
        int hi, lo;
        if (e == 'x' && (hi = hex_digit(line[i + 1])) >= 0 &&
            (lo = hex_digit(line[i + 2])) >= 0) {
            line[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else if (e == 'r') {
            line[o++] = '\r';
        } else if (e == 'n') {
            line[o++] = '\n';
        } else if (e == 't') {
            line[o++] = '\t';
        } else {
            line[o++] = e; /* "\\" and anything else: the character itself */
        }
    }
    return o;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN) {
            struct pollfd pfd = {.fd = fd, .events = POLLOUT};
            poll(&pfd, 1, 100);
            continue;
        }
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* A new PTY in raw mode; returns the master, the slave kept open in *slave (so the line
 * settings stay and writes never fail for want of a reader), its name in name. */
static int open_pty(int *slave, char *name, size_t len)
{
    int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0 ||
        ptsname_r(master, name, len) != 0)
        return -1;
    *slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    struct termios t;
    if (*slave < 0 || tcgetattr(*slave, &t) != 0)
        return -1;
    cfmakeraw(&t);
    if (tcsetattr(*slave, TCSANOW, &t) != 0)
        return -1;
    return master;
}

/* Points link at target atomically (a replug at the same path). */
static int publish_link(const char *link, const char *target)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.new", link) >= (int)sizeof tmp)
        return -1;
    unlink(tmp);
    if (symlink(target, tmp) != 0 || rename(tmp, link) != 0)
        return -1;
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: depot-scan-sim --link PATH [--suffix cr|lf|crlf|none] [--stdin]\n"
               "  scans each line written to PATH.in (or stdin) into a PTY at PATH\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"link", required_argument, NULL, 'l'},
        {"suffix", required_argument, NULL, 's'},
        {"stdin", no_argument, NULL, 'i'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    const char *link = NULL, *suffix = "\r";
    int use_stdin = 0, o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'l': link = optarg; break;
        case 's':
            if (!strcmp(optarg, "cr")) suffix = "\r";
            else if (!strcmp(optarg, "lf")) suffix = "\n";
            else if (!strcmp(optarg, "crlf")) suffix = "\r\n";
            else if (!strcmp(optarg, "none")) suffix = "";
            else {
                usage(stderr);
                return 2;
            }
            break;
        case 'i': use_stdin = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!link || optind != argc || strlen(link) > PATH_MAX - 8) {
        usage(stderr);
        return 2;
    }
    char fifo[PATH_MAX], name[64];
    snprintf(fifo, sizeof fifo, "%s.in", link);
    int slave = -1, master = open_pty(&slave, name, sizeof name);
    if (master < 0 || publish_link(link, name) != 0) {
        fprintf(stderr, "depot-scan-sim: cannot create the PTY at %s: %s\n", link,
                strerror(errno));
        return 1;
    }
    int in = STDIN_FILENO;
    if (!use_stdin) {
        unlink(fifo);
        /* O_RDWR: the FIFO never reports end-of-file when a writer goes away. */
        if (mkfifo(fifo, 0600) != 0 || (in = open(fifo, O_RDWR | O_CLOEXEC)) < 0) {
            fprintf(stderr, "depot-scan-sim: cannot create %s: %s\n", fifo, strerror(errno));
            unlink(link);
            return 1;
        }
    }
    struct sigaction sa = {.sa_handler = on_stop}; /* no SA_RESTART: fgets returns */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    signal(SIGPIPE, SIG_IGN);
    printf("ready %s -> %s\n", link, name);
    fflush(stdout);

    FILE *lines = fdopen(in, "r");
    char *line = malloc(LINE_MAX_BYTES);
    int rc = 0;
    while (lines && line && !stopping && fgets(line, LINE_MAX_BYTES, lines)) {
        line[strcspn(line, "\r\n")] = '\0';
        size_t n = unescape(line);
        if (write_all(master, line, n) != 0 || write_all(master, suffix, strlen(suffix)) != 0) {
            fprintf(stderr, "depot-scan-sim: write: %s\n", strerror(errno));
            rc = 1;
            break;
        }
    }
    free(line);
    unlink(link);
    if (!use_stdin)
        unlink(fifo);
    close(master);
    close(slave);
    return rc;
}
