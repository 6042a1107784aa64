/* depot-printer-sim: a ZPL label printer for `make demo` and the integration tests. It
 * listens on a pseudo-terminal (published at a stable symlink) and/or a TCP port, stores
 * every label it receives (^XA ... ^XZ) as one file, answers ~HS like a Zebra, and is
 * told to fail and recover over a control socket:
 *
 *   depot-printer-sim --labels DIR [--pty LINK] [--tcp [HOST:]PORT] [--control SOCK]
 *   depot-printer-sim --ctl SOCK COMMAND      (send one command to a running simulator)
 *
 * Commands: paper-out, head-open, ribbon-out, pause, buffer-full (set a fault; ~HS
 * reports it), ok (clear every fault), offline (stop reading and answering, as a printer that hangs),
 * drop (as a printer switched off or unplugged: what already arrived is still printed,
 * then TCP connections are closed and new ones refused, and the PTY is closed and its
 * link removed), online (undo offline; after drop a new PTY appears at the same link),
 * roll N (only N more labels are on the roll: after the Nth the printer is out of paper,
 * as when a roll runs out mid-queue), status. Each is answered with one line:
 * "ok state=<faults|ready> mode=<online|offline|drop> labels=<N>".
 *
 * Labels go to DIR/label-NNNNNN.zpl, numbered on from what DIR already holds, written
 * to a temporary name first so a reader never sees half a label. A partial label (the
 * connection closed, or a new ^XA arrived before ^XZ) is dropped, as a printer does.
 * The simulator stops on SIGTERM or SIGINT, and when the process that started it exits. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#define MAX_CLIENTS 8
#define MAX_CONTROL 4
#define BUF_MAX (2 * 1024 * 1024) /* a stream holding more without ^XZ is reset */

struct stream {
    int fd;          /* -1 when unused */
    int is_socket;
    char *buf;
    size_t len, cap;
    int in_label;    /* buf starts with ^XA */
    size_t scan;     /* where the search for the label's end resumes */
};

struct sim {
    const char *labels_dir;
    int next_label;
    int paper_out, head_open, ribbon_out, paused, buffer_full;
    int roll; /* labels left on the roll before paper out; 0 = endless */
    int offline, dropped;
    /* PTY */
    const char *pty_link;
    struct stream pty;
    int pty_slave; /* held open so the master never sees a hang-up */
    /* TCP */
    int tcp_listen;
    char tcp_host[64];
    int tcp_port;
    struct stream clients[MAX_CLIENTS];
    /* control */
    const char *control_path;
    int control_listen;
    int control[MAX_CONTROL];
};

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "depot-printer-sim: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

static void stream_reset(struct stream *s)
{
    s->len = 0;
    s->in_label = 0;
    s->scan = 0;
}

static void stream_close(struct stream *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    free(s->buf);
    *s = (struct stream){.fd = -1};
}

/* ---- Labels ----------------------------------------------------------------------- */

static int first_free_label(const char *dir)
{
    int max = 0;
    DIR *d = opendir(dir);
    if (!d)
        die("%s: %s", dir, strerror(errno));
    for (struct dirent *e; (e = readdir(d));) {
        int n;
        if (sscanf(e->d_name, "label-%d.zpl", &n) == 1 && n > max)
            max = n;
    }
    closedir(d);
    return max + 1;
}

static void store_label(struct sim *sim, const char *data, size_t len)
{
    char tmp[4096], path[4096];
    snprintf(path, sizeof path, "%s/label-%06d.zpl", sim->labels_dir, sim->next_label);
    snprintf(tmp, sizeof tmp, "%s/.label-%06d.tmp", sim->labels_dir, sim->next_label);
    FILE *f = fopen(tmp, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0 || rename(tmp, path) != 0)
        die("cannot store %s: %s", path, strerror(errno));
    printf("label %d stored (%zu bytes)\n", sim->next_label, len);
    sim->next_label++;
    if (sim->roll > 0 && --sim->roll == 0)
        sim->paper_out = 1;
}

/* ---- ~HS ------------------------------------------------------------------------- */

/* A Zebra host status reply: three <STX>...<ETX><CR><LF> strings; string 1 field 2 paper
 * out, field 3 pause, field 6 buffer full; string 2 field 3 head up, field 4 ribbon out.
 * A Zebra pauses itself when it runs out of paper. */
static void answer_status(struct sim *sim, struct stream *s)
{
    char reply[256];
    int n = snprintf(reply, sizeof reply,
                     "\x02" "030,%d,%d,1218,000,%d,0,0,000,0,0,0\x03\r\n"
                     "\x02" "001,0,%d,%d,1,2,6,0,00000000,1,000\x03\r\n"
                     "\x02" "1234,0\x03\r\n",
                     sim->paper_out, sim->paper_out || sim->paused, sim->buffer_full,
                     sim->head_open, sim->ribbon_out);
    for (int off = 0; off < n;) {
        ssize_t w = write(s->fd, reply + off, (size_t)(n - off));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return; /* the host went away; its next read tells it */
        off += (int)w;
    }
}

/* ---- Parsing a stream ------------------------------------------------------------- */

/* The offset of the first case-insensitive match of the 3-byte token in buf[from..len),
 * or -1. */
static long find_token(const char *buf, size_t from, size_t len, const char *token)
{
    for (size_t i = from; i + 3 <= len; i++)
        if (buf[i] == token[0] && toupper((unsigned char)buf[i + 1]) == token[1] &&
            toupper((unsigned char)buf[i + 2]) == token[2])
            return (long)i;
    return -1;
}

static void consume(struct stream *s, size_t n)
{
    memmove(s->buf, s->buf + n, s->len - n);
    s->len -= n;
}

static void parse(struct sim *sim, struct stream *s)
{
    for (;;) {
        if (!s->in_label) {
            long hs = find_token(s->buf, 0, s->len, "~HS");
            long xa = find_token(s->buf, 0, s->len, "^XA");
            if (hs < 0 && xa < 0) {
                if (s->len > 2)
                    consume(s, s->len - 2); /* keep what may start a token */
                return;
            }
            if (hs >= 0 && (xa < 0 || hs < xa)) {
                answer_status(sim, s);
                consume(s, (size_t)hs + 3);
                continue;
            }
            consume(s, (size_t)xa);
            s->in_label = 1;
            s->scan = 3;
            continue;
        }
        long xz = find_token(s->buf, s->scan, s->len, "^XZ");
        long xa = find_token(s->buf, s->scan, s->len, "^XA");
        if (xz < 0 && xa < 0) {
            s->scan = s->len > 5 ? s->len - 2 : 3;
            return;
        }
        if (xa >= 0 && (xz < 0 || xa < xz)) {
            printf("partial label of %ld bytes dropped\n", xa);
            consume(s, (size_t)xa);
            s->scan = 3;
            continue;
        }
        store_label(sim, s->buf, (size_t)xz + 3);
        consume(s, (size_t)xz + 3);
        s->in_label = 0;
    }
}

/* Reads what the stream has; returns 1 if it read bytes, 0 if there were none, -1
 * when it closed or failed. */
static int stream_read(struct sim *sim, struct stream *s)
{
    char chunk[65536];
    ssize_t n = read(s->fd, chunk, sizeof chunk);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    if (n <= 0)
        return -1;
    if (s->len + (size_t)n > BUF_MAX) {
        printf("over %d bytes without a complete label: dropped\n", BUF_MAX);
        stream_reset(s);
    }
    if (s->len + (size_t)n > s->cap) {
        size_t cap = s->cap ? s->cap : 65536;
        while (cap < s->len + (size_t)n)
            cap *= 2;
        char *b = realloc(s->buf, cap);
        if (!b)
            die("out of memory");
        s->buf = b;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, chunk, (size_t)n);
    s->len += (size_t)n;
    parse(sim, s);
    return 1;
}

/* ---- Endpoints -------------------------------------------------------------------- */

static void open_pty(struct sim *sim)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (m < 0 || grantpt(m) != 0 || unlockpt(m) != 0)
        die("cannot create a pseudo-terminal: %s", strerror(errno));
    const char *slave = ptsname(m);
    int sfd = slave ? open(slave, O_RDWR | O_NOCTTY | O_CLOEXEC) : -1;
    struct termios tio;
    if (sfd < 0 || tcgetattr(sfd, &tio) != 0)
        die("cannot open the pseudo-terminal's slave: %s", strerror(errno));
    cfmakeraw(&tio);
    tcsetattr(sfd, TCSANOW, &tio);
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.new", sim->pty_link);
    unlink(tmp);
    if (symlink(slave, tmp) != 0 || rename(tmp, sim->pty_link) != 0)
        die("cannot link %s to %s: %s", sim->pty_link, slave, strerror(errno));
    sim->pty = (struct stream){.fd = m};
    sim->pty_slave = sfd;
    printf("pty %s -> %s\n", sim->pty_link, slave);
}

static int listen_tcp(struct sim *sim)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)sim->tcp_port)};
    if (inet_pton(AF_INET, sim->tcp_host, &a.sin_addr) != 1)
        die("--tcp: %s is not an IPv4 address", sim->tcp_host);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 8) != 0)
        die("cannot listen on %s:%d: %s", sim->tcp_host, sim->tcp_port, strerror(errno));
    socklen_t len = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &len);
    sim->tcp_port = ntohs(a.sin_port);
    return fd;
}

/* Switched off: what already arrived is printed, then every connection goes. */
static void drop_clients(struct sim *sim)
{
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (sim->clients[i].fd >= 0) {
            while (stream_read(sim, &sim->clients[i]) == 1)
                ;
            stream_close(&sim->clients[i]);
        }
}

/* Unplugged: what already arrived is printed, then the PTY closes and its link goes. */
static void unplug_pty(struct sim *sim)
{
    if (sim->pty.fd < 0)
        return;
    while (stream_read(sim, &sim->pty) == 1)
        ;
    stream_close(&sim->pty);
    close(sim->pty_slave);
    sim->pty_slave = -1;
    unlink(sim->pty_link);
    printf("pty %s unplugged\n", sim->pty_link);
}

static void accept_client(struct sim *sim)
{
    int fd = accept4(sim->tcp_listen, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return;
    if (sim->dropped) {
        close(fd); /* switched off: the connection is reset at once */
        return;
    }
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (sim->clients[i].fd < 0) {
            sim->clients[i] = (struct stream){.fd = fd, .is_socket = 1};
            return;
        }
    close(fd);
}

static int listen_control(const char *path)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof a.sun_path)
        die("--control: path too long");
    strcpy(a.sun_path, path);
    unlink(path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 4) != 0)
        die("cannot listen on %s: %s", path, strerror(errno));
    return fd;
}

/* ---- Control ---------------------------------------------------------------------- */

static void state_text(const struct sim *sim, char *out, size_t len)
{
    snprintf(out, len, "%s%s%s%s%s", sim->paper_out ? "paper-out," : "",
             sim->head_open ? "head-open," : "", sim->ribbon_out ? "ribbon-out," : "",
             sim->paused ? "pause," : "", sim->buffer_full ? "buffer-full," : "");
    size_t n = strlen(out);
    if (n)
        out[n - 1] = '\0';
    else
        snprintf(out, len, "ready");
}

/* Applies one command; returns the reply line. */
static void command(struct sim *sim, const char *cmd, char *reply, size_t len)
{
    char state[64];
    if (!strcmp(cmd, "paper-out"))
        sim->paper_out = 1;
    else if (!strcmp(cmd, "head-open"))
        sim->head_open = 1;
    else if (!strcmp(cmd, "ribbon-out"))
        sim->ribbon_out = 1;
    else if (!strcmp(cmd, "pause"))
        sim->paused = 1;
    else if (!strcmp(cmd, "buffer-full"))
        sim->buffer_full = 1;
    else if (!strcmp(cmd, "ok"))
        sim->paper_out = sim->head_open = sim->ribbon_out = sim->paused = sim->buffer_full =
            sim->roll = 0;
    else if (!strncmp(cmd, "roll ", 5) && atoi(cmd + 5) > 0)
        sim->roll = atoi(cmd + 5);
    else if (!strcmp(cmd, "offline"))
        sim->offline = 1;
    else if (!strcmp(cmd, "drop")) {
        sim->dropped = 1;
        drop_clients(sim);
        unplug_pty(sim);
    } else if (!strcmp(cmd, "online")) {
        if (sim->pty_link && sim->pty.fd < 0)
            open_pty(sim);
        sim->offline = sim->dropped = 0;
    }
    else if (strcmp(cmd, "status")) {
        snprintf(reply, len, "error unknown command '%.40s'\n", cmd);
        return;
    }
    state_text(sim, state, sizeof state);
    snprintf(reply, len, "ok state=%s mode=%s labels=%d\n", state,
             sim->dropped ? "drop" : sim->offline ? "offline" : "online",
             sim->next_label - 1);
    printf("control: %s -> %s", cmd, reply);
}

/* Reads one command line from a control client, answers it and closes it. */
static void control_client(struct sim *sim, int i)
{
    char line[128], reply[160];
    ssize_t n = read(sim->control[i], line, sizeof line - 1);
    if (n < 0 && errno == EAGAIN)
        return;
    if (n > 0) {
        line[n] = '\0';
        line[strcspn(line, "\r\n")] = '\0';
        command(sim, line, reply, sizeof reply);
        if (write(sim->control[i], reply, strlen(reply)) < 0)
            printf("control: reply lost: %s\n", strerror(errno));
    }
    close(sim->control[i]);
    sim->control[i] = -1;
}

/* --ctl SOCK COMMAND: the client side. */
static int send_command(const char *path, const char *cmd)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    char reply[256];
    if (strlen(path) >= sizeof a.sun_path)
        die("--ctl: path too long");
    strcpy(a.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
        die("%s: %s", path, strerror(errno));
    if (dprintf(fd, "%s\n", cmd) < 0)
        die("%s: %s", path, strerror(errno));
    ssize_t n = read(fd, reply, sizeof reply - 1);
    close(fd);
    if (n <= 0)
        die("%s: no reply", path);
    reply[n] = '\0';
    fputs(reply, stdout);
    return strncmp(reply, "ok", 2) == 0 ? 0 : 1;
}

/* ---- Main loop -------------------------------------------------------------------- */

enum { P_PTY, P_TCP, P_CONTROL, P_CLIENTS, P_CONTROLS = P_CLIENTS + MAX_CLIENTS,
       P_COUNT = P_CONTROLS + MAX_CONTROL };

static void serve(struct sim *sim)
{
    struct pollfd p[P_COUNT];
    while (!stop_requested) {
        for (int i = 0; i < P_COUNT; i++)
            p[i] = (struct pollfd){.fd = -1};
        if (!sim->offline) {
            p[P_PTY] = (struct pollfd){.fd = sim->pty.fd, .events = POLLIN};
            for (int i = 0; i < MAX_CLIENTS; i++)
                p[P_CLIENTS + i] = (struct pollfd){.fd = sim->clients[i].fd, .events = POLLIN};
        }
        p[P_TCP] = (struct pollfd){.fd = sim->tcp_listen, .events = POLLIN};
        p[P_CONTROL] = (struct pollfd){.fd = sim->control_listen, .events = POLLIN};
        for (int i = 0; i < MAX_CONTROL; i++)
            p[P_CONTROLS + i] = (struct pollfd){.fd = sim->control[i], .events = POLLIN};
        fflush(stdout);
        if (poll(p, P_COUNT, 500) < 0) {
            if (errno == EINTR)
                continue;
            die("poll: %s", strerror(errno));
        }
        if (p[P_PTY].revents && stream_read(sim, &sim->pty) < 0)
            stream_reset(&sim->pty); /* cannot happen while the slave is held open */
        for (int i = 0; i < MAX_CLIENTS; i++)
            if (p[P_CLIENTS + i].revents && stream_read(sim, &sim->clients[i]) < 0)
                stream_close(&sim->clients[i]);
        if (p[P_TCP].revents)
            accept_client(sim);
        if (p[P_CONTROL].revents) {
            int fd = accept4(sim->control_listen, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
            for (int i = 0; fd >= 0 && i < MAX_CONTROL; i++)
                if (sim->control[i] < 0) {
                    sim->control[i] = fd;
                    fd = -1;
                }
            if (fd >= 0)
                close(fd);
        }
        for (int i = 0; i < MAX_CONTROL; i++)
            if (p[P_CONTROLS + i].revents)
                control_client(sim, i);
    }
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: depot-printer-sim --labels DIR [--pty LINK] [--tcp [HOST:]PORT]"
            " [--control SOCK]\n"
            "       depot-printer-sim --ctl SOCK COMMAND\n"
            "commands: paper-out head-open ribbon-out pause ok offline drop online roll N"
            " status\n");
}

/* --tcp [HOST:]PORT; HOST defaults to 127.0.0.1, PORT 0 picks a free port. */
static void parse_tcp(struct sim *sim, const char *arg)
{
    const char *colon = strrchr(arg, ':');
    const char *port = colon ? colon + 1 : arg;
    size_t hostlen = colon ? (size_t)(colon - arg) : 0;
    if (hostlen >= sizeof sim->tcp_host)
        die("--tcp: host too long");
    if (colon)
        snprintf(sim->tcp_host, sizeof sim->tcp_host, "%.*s", (int)hostlen, arg);
    else
        snprintf(sim->tcp_host, sizeof sim->tcp_host, "127.0.0.1");
    char *end;
    long p = strtol(port, &end, 10);
    if (*port == '\0' || *end != '\0' || p < 0 || p > 65535)
        die("--tcp takes [HOST:]PORT, not '%s'", arg);
    sim->tcp_port = (int)p;
}

int main(int argc, char **argv)
{
    struct sim sim = {.pty = {.fd = -1}, .pty_slave = -1, .tcp_listen = -1,
                      .control_listen = -1};
    for (int i = 0; i < MAX_CLIENTS; i++)
        sim.clients[i].fd = -1;
    for (int i = 0; i < MAX_CONTROL; i++)
        sim.control[i] = -1;
    const char *tcp = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        if (i + 1 >= argc) {
            usage(stderr);
            return 2;
        }
        if (!strcmp(a, "--ctl"))
            return i + 2 < argc ? send_command(argv[i + 1], argv[i + 2]) : (usage(stderr), 2);
        if (!strcmp(a, "--labels"))
            sim.labels_dir = argv[++i];
        else if (!strcmp(a, "--pty"))
            sim.pty_link = argv[++i];
        else if (!strcmp(a, "--tcp"))
            tcp = argv[++i];
        else if (!strcmp(a, "--control"))
            sim.control_path = argv[++i];
        else {
            usage(stderr);
            return 2;
        }
    }
    if (!sim.labels_dir || (!sim.pty_link && !tcp)) {
        usage(stderr);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {.sa_handler = on_stop};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    prctl(PR_SET_PDEATHSIG, SIGTERM); /* the demo's depotd, a test: gone, so are we */
    sim.next_label = first_free_label(sim.labels_dir);
    if (sim.pty_link)
        open_pty(&sim);
    if (tcp) {
        parse_tcp(&sim, tcp);
        sim.tcp_listen = listen_tcp(&sim);
        printf("tcp %s:%d\n", sim.tcp_host, sim.tcp_port);
    }
    if (sim.control_path) {
        sim.control_listen = listen_control(sim.control_path);
        printf("control %s\n", sim.control_path);
    }
    printf("ready\n");
    serve(&sim);
    for (int i = 0; i < MAX_CLIENTS; i++)
        stream_close(&sim.clients[i]);
    stream_close(&sim.pty);
    if (sim.pty_link)
        unlink(sim.pty_link);
    if (sim.control_path)
        unlink(sim.control_path);
    printf("stopped with %d labels\n", sim.next_label - 1);
    return 0;
}
