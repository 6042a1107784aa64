/* Unit tests of the printer backends (drivers/printer*.c): backend names and address
 * checks, the state a ~HS reply means, the live state table, and the TCP and file
 * backends against a real loopback listener and a real file. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>
#include "testutil.h"
#include "printer.h"

#define HS_REPLY(paper_out, head_open)                                                 \
    "\x02" "030," paper_out ",0,1218,000,0,0,0,000,0,0,0\x03\r\n"                     \
    "\x02" "001,0," head_open ",0,1,2,6,0,00000000,1,000\x03\r\n\x02" "1234,0\x03\r\n"

static void TEST_backend_names_and_addresses(void)
{
    enum depot_printer_backend b;
    char err[160];
    CU_ASSERT_EQUAL(depot_printer_backend_parse("tcp", &b), 0);
    CU_ASSERT_EQUAL(b, DEPOT_PRINTER_TCP);
    CU_ASSERT_EQUAL(depot_printer_backend_parse("usb", &b), -1);
    CU_ASSERT_STRING_EQUAL(depot_printer_backend_name(DEPOT_PRINTER_SERIAL), "serial");
    CU_ASSERT_PTR_EQUAL(depot_printer_ops_for(DEPOT_PRINTER_FILE), &depot_printer_file_ops);
    static const char *const good_tcp[] = {"10.0.0.9:9100", "zebra.local:9100", "[::1]:9100"};
    static const char *const bad_tcp[] = {"10.0.0.9", "h:0", "h:65536", "h:91a", ":9100",
                                          "::1:9100", "[::1]9100", "h:9100\n"};
    for (size_t i = 0; i < sizeof good_tcp / sizeof *good_tcp; i++)
        CU_ASSERT_EQUAL(depot_printer_address_validate(DEPOT_PRINTER_TCP, good_tcp[i], err,
                                                       sizeof err), 0);
    for (size_t i = 0; i < sizeof bad_tcp / sizeof *bad_tcp; i++)
        CU_ASSERT_EQUAL(depot_printer_address_validate(DEPOT_PRINTER_TCP, bad_tcp[i], err,
                                                       sizeof err), -1);
    CU_ASSERT_EQUAL(depot_printer_address_validate(DEPOT_PRINTER_SERIAL,
                                                   "/dev/serial/by-id/usb-Zebra", err,
                                                   sizeof err), 0);
    CU_ASSERT_EQUAL(depot_printer_address_validate(DEPOT_PRINTER_FILE, "lp0", err,
                                                   sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "absolute path"));
}

static void TEST_state_from_status_in_priority_order(void)
{
    struct depot_zebra_status s = {0};
    CU_ASSERT_EQUAL(depot_printer_state_from_status(&s), DEPOT_PRINTER_READY);
    s.buffer_full = 1;
    CU_ASSERT_EQUAL(depot_printer_state_from_status(&s), DEPOT_PRINTER_BUFFER_FULL);
    s.paused = 1;
    CU_ASSERT_EQUAL(depot_printer_state_from_status(&s), DEPOT_PRINTER_PAUSED);
    s.ribbon_out = 1;
    CU_ASSERT_EQUAL(depot_printer_state_from_status(&s), DEPOT_PRINTER_RIBBON_OUT);
    s.head_open = 1;
    CU_ASSERT_EQUAL(depot_printer_state_from_status(&s), DEPOT_PRINTER_HEAD_OPEN);
    s.paper_out = 1;
    CU_ASSERT_EQUAL(depot_printer_state_from_status(&s), DEPOT_PRINTER_PAPER_OUT);
    CU_ASSERT_STRING_EQUAL(depot_printer_state_name(DEPOT_PRINTER_PAPER_OUT), "paper_out");
}

static void TEST_live_table_reports_changes(void)
{
    struct depot_printer_live l, all[4];
    depot_printer_live_reset();
    CU_ASSERT_EQUAL(depot_printer_live_get("p", &l), -1);
    CU_ASSERT_EQUAL(depot_printer_live_set("p", DEPOT_PRINTER_READY, "", 0), 1);
    CU_ASSERT_EQUAL(depot_printer_live_set("p", DEPOT_PRINTER_READY, "", 0), 0);
    CU_ASSERT_EQUAL(depot_printer_live_set("p", DEPOT_PRINTER_READY, "why", 0), 1);
    CU_ASSERT_EQUAL(depot_printer_live_set("q", DEPOT_PRINTER_OFFLINE, "refused", 7), 1);
    depot_printer_live_printed("p");
    CU_ASSERT_EQUAL_FATAL(depot_printer_live_get("p", &l), 0);
    CU_ASSERT_EQUAL(l.printed, 1);
    CU_ASSERT(l.since > 0);
    CU_ASSERT_EQUAL(depot_printer_live_list(all, 4), 2);
    CU_ASSERT_STRING_EQUAL(all[1].message, "refused");
    CU_ASSERT_EQUAL(all[1].current_job, 7);
    depot_printer_live_reset();
    CU_ASSERT_EQUAL(depot_printer_live_list(all, 4), 0);
}

/* A removed printer's entry is forgotten, so a full table takes a new printer again. */
static void TEST_live_table_forgets_removed_printers(void)
{
    struct depot_printer_live l;
    char name[16];
    depot_printer_live_reset();
    for (int i = 0; i < DEPOT_PRINTER_LIVE_MAX; i++) {
        snprintf(name, sizeof name, "p%d", i);
        CU_ASSERT_EQUAL(depot_printer_live_set(name, DEPOT_PRINTER_READY, "", 0), 1);
    }
    CU_ASSERT_EQUAL(depot_printer_live_set("late", DEPOT_PRINTER_READY, "", 0), -1);
    depot_printer_live_forget("p3");
    depot_printer_live_forget("never-there");
    CU_ASSERT_EQUAL(depot_printer_live_get("p3", &l), -1);
    CU_ASSERT_EQUAL(depot_printer_live_set("late", DEPOT_PRINTER_OFFLINE, "x", 0), 1);
    CU_ASSERT_EQUAL_FATAL(depot_printer_live_get("late", &l), 0);
    CU_ASSERT_EQUAL(l.state, DEPOT_PRINTER_OFFLINE);
    /* the entry that moved into p3's place is intact */
    snprintf(name, sizeof name, "p%d", DEPOT_PRINTER_LIVE_MAX - 1);
    CU_ASSERT_EQUAL_FATAL(depot_printer_live_get(name, &l), 0);
    CU_ASSERT_EQUAL(l.state, DEPOT_PRINTER_READY);
    depot_printer_live_reset();
}

/* ---- TCP against a loopback listener ---------------------------------------------- */

static int listen_loopback(int *port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CU_ASSERT_FATAL(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
                    listen(fd, 4) == 0);
    getsockname(fd, (struct sockaddr *)&a, &len);
    *port = ntohs(a.sin_port);
    return fd;
}

/* The printer's side: reads "~HS" and answers with reply (NULL: stays silent). */
struct printer_side {
    int fd;
    const char *reply;
};

static void *answer_hs(void *arg)
{
    struct printer_side *p = arg;
    char cmd[3];
    size_t got = 0;
    while (got < 3) {
        ssize_t n = read(p->fd, cmd + got, 3 - got);
        if (n <= 0)
            return NULL;
        got += (size_t)n;
    }
    if (p->reply && write(p->fd, p->reply, strlen(p->reply)) < 0)
        return NULL;
    return NULL;
}

static int query(void *conn, int server_fd, const char *reply, struct depot_zebra_status *s,
                 char *err, size_t errlen)
{
    struct printer_side side = {server_fd, reply};
    pthread_t th;
    pthread_create(&th, NULL, answer_hs, &side);
    int rc = depot_printer_tcp_ops.query_status(conn, 300, s, err, errlen);
    pthread_join(th, NULL);
    return rc;
}

static void TEST_tcp_writes_drains_and_reads_status(void)
{
    int port;
    int lfd = listen_loopback(&port);
    struct depot_printer_conf conf = {.name = "t", .backend = DEPOT_PRINTER_TCP,
                                      .timeout_ms = 1000};
    snprintf(conf.address, sizeof conf.address, "127.0.0.1:%d", port);
    void *conn = NULL;
    char err[256], buf[64] = {0};
    CU_ASSERT_EQUAL_FATAL(depot_printer_tcp_ops.open(&conf, &conn, err, sizeof err), 0);
    int sfd = accept(lfd, NULL, NULL);
    CU_ASSERT_FATAL(sfd >= 0);
    CU_ASSERT_EQUAL(depot_printer_tcp_ops.write_all(conn, "^XA^FDhi^FS^XZ", 14, 1000, err,
                                                    sizeof err), 0);
    CU_ASSERT_EQUAL(depot_printer_tcp_ops.drain(conn, 1000, err, sizeof err), 0);
    CU_ASSERT_EQUAL(read(sfd, buf, 14), 14);
    CU_ASSERT_STRING_EQUAL(buf, "^XA^FDhi^FS^XZ");

    struct depot_zebra_status s;
    CU_ASSERT_EQUAL(query(conn, sfd, HS_REPLY("1", "0"), &s, err, sizeof err), 0);
    CU_ASSERT_EQUAL(s.paper_out, 1);
    CU_ASSERT_EQUAL(query(conn, sfd, HS_REPLY("0", "1"), &s, err, sizeof err), 0);
    CU_ASSERT_EQUAL((s.paper_out << 1) | s.head_open, 1);
    /* Silent: a fault, reported as -1 after the timeout; the connection stays usable. */
    CU_ASSERT_EQUAL(query(conn, sfd, NULL, &s, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "no ~HS reply"));
    CU_ASSERT_EQUAL(query(conn, sfd, HS_REPLY("0", "0"), &s, err, sizeof err), 0);
    CU_ASSERT_TRUE(depot_zebra_status_ready(&s));
    /* The printer goes away: the connection is lost. */
    close(sfd);
    CU_ASSERT_EQUAL(depot_printer_tcp_ops.query_status(conn, 300, &s, err, sizeof err),
                    DEPOT_PRINTER_LOST);
    depot_printer_tcp_ops.close(conn);
    /* Nobody listening: refused at once, not after the timeout. */
    close(lfd);
    conn = NULL;
    CU_ASSERT_EQUAL(depot_printer_tcp_ops.open(&conf, &conn, err, sizeof err), -1);
    CU_ASSERT_PTR_NULL(conn);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "refused"));
}

/* A printer whose TCP stack never answers: a listener with a full accept queue makes the
 * kernel drop further SYNs, so connect() stays in progress until our deadline. */
static void TEST_tcp_connect_gives_up_at_the_timeout(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int lfd = socket(AF_INET, SOCK_STREAM, 0), fill[4];
    CU_ASSERT_FATAL(lfd >= 0 && bind(lfd, (struct sockaddr *)&a, sizeof a) == 0 &&
                    listen(lfd, 0) == 0);
    getsockname(lfd, (struct sockaddr *)&a, &len);
    for (int i = 0; i < 4; i++) { /* fill the accept queue; later ones hang themselves */
        fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        connect(fill[i], (struct sockaddr *)&a, sizeof a);
    }
    struct depot_printer_conf conf = {.name = "t", .backend = DEPOT_PRINTER_TCP,
                                      .timeout_ms = 300};
    snprintf(conf.address, sizeof conf.address, "127.0.0.1:%d", ntohs(a.sin_port));
    void *conn = NULL;
    char err[256] = "";
    CU_ASSERT_EQUAL(depot_printer_tcp_ops.open(&conf, &conn, err, sizeof err), -1);
    CU_ASSERT_PTR_NULL(conn);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "timed out"));
    for (int i = 0; i < 4; i++)
        close(fill[i]);
    close(lfd);
}

static void TEST_file_backend_appends_and_needs_the_device(void)
{
    char dir[] = "/tmp/depot-printer-test-XXXXXX", path[128], buf[64] = {0};
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    struct depot_printer_conf conf = {.backend = DEPOT_PRINTER_FILE, .timeout_ms = 1000};
    snprintf(path, sizeof path, "%s/lp0", dir);
    snprintf(conf.address, sizeof conf.address, "%s", path);
    void *conn = NULL;
    char err[256];
    CU_ASSERT_EQUAL(depot_printer_file_ops.open(&conf, &conn, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "No such file"));
    FILE *f = fopen(path, "w");
    fclose(f);
    CU_ASSERT_EQUAL_FATAL(depot_printer_file_ops.open(&conf, &conn, err, sizeof err), 0);
    CU_ASSERT_EQUAL(depot_printer_file_ops.write_all(conn, "^XA^XZ", 6, 1000, err, sizeof err),
                    0);
    CU_ASSERT_EQUAL(depot_printer_file_ops.write_all(conn, "^XA^XZ", 6, 1000, err, sizeof err),
                    0);
    depot_printer_file_ops.close(conn);
    f = fopen(path, "r");
    CU_ASSERT_EQUAL(fread(buf, 1, sizeof buf - 1, f), 12);
    fclose(f);
    CU_ASSERT_STRING_EQUAL(buf, "^XA^XZ^XA^XZ");
    CU_ASSERT_PTR_NULL(depot_printer_file_ops.query_status);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    static const struct test_case cases[] = {
        {"backend_names_and_addresses", TEST_backend_names_and_addresses},
        {"state_from_status_in_priority_order", TEST_state_from_status_in_priority_order},
        {"live_table_reports_changes", TEST_live_table_reports_changes},
        {"live_table_forgets_removed_printers", TEST_live_table_forgets_removed_printers},
        {"tcp_writes_drains_and_reads_status", TEST_tcp_writes_drains_and_reads_status},
        {"tcp_connect_gives_up_at_the_timeout", TEST_tcp_connect_gives_up_at_the_timeout},
        {"file_backend_appends_and_needs_the_device",
         TEST_file_backend_appends_and_needs_the_device},
        {0},
    };
    return test_run("printer", cases);
}
