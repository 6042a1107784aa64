/* Private interface shared by depotctl's files: the invocation, the command table entry,
 * argument helpers, output helpers, opening the store, and the command handlers. */
#ifndef DEPOT_CTL_H
#define DEPOT_CTL_H

#include <stdint.h>
#include <stdio.h>
#include <getopt.h>
#include "store.h"

/* Exit statuses: success, a refused or failed operation, a usage error. */
enum { CTL_EXIT_OK = 0, CTL_EXIT_FAIL = 1, CTL_EXIT_USAGE = 2 };

struct ctl;

/* One command: `depotctl [GROUP] NAME ARGS`. run gets argv[0] = NAME and returns the
 * exit status; it has printed everything itself. */
struct ctl_cmd {
    const char *group;   /* "stock", "order", ... or NULL for a top-level command */
    const char *name;
    int (*run)(struct ctl *c, int argc, char **argv);
    const char *args;    /* synopsis after the command words */
    const char *summary; /* one line for the command list and --help */
    const char *options; /* option lines for --help, or NULL */
};

/* One invocation of depotctl. */
struct ctl {
    const char *data_dir;      /* --data-dir, else $DEPOT_DATA_DIR, else ./var */
    int json;                  /* --json: exactly one JSON document on stdout */
    const struct ctl_cmd *cmd; /* the command being run, NULL before dispatch */
    char actor[96];            /* "cli:<login name>", for the audit log */
};

/* ---- Arguments (depotctl.c) ------------------------------------------------------- */

#define CTL_OPTS_END 0     /* no more options; positional arguments start at optind */
#define CTL_OPTS_HELP (-1) /* --help: the command's usage is on stdout; exit 0 */
#define CTL_OPTS_BAD (-2)  /* a usage error is on stderr; exit 2 */

/* getopt_long over a command's arguments with opts (terminated by a zeroed entry, at
 * most 12) plus the options every command takes: --help, --json, --data-dir. Returns
 * the val of the next command option (> 0, optarg set), or one of CTL_OPTS_*. */
int ctl__getopt(struct ctl *c, int argc, char **argv, const struct option *opts);
/* Exit status for CTL_OPTS_HELP or CTL_OPTS_BAD. */
int ctl__opts_exit(int opts_status);
/* 0 if exactly n positional arguments follow the options; else a usage error (-1). */
int ctl__positional(struct ctl *c, int argc, char **argv, int n);
/* For a command without options of its own: the common options, then exactly n
 * positional arguments (argv[optind..]). Returns CTL_GO to go on, else the exit status. */
#define CTL_GO (-1)
int ctl__plain_args(struct ctl *c, int argc, char **argv, int n);
/* Strict base-10 integer: optional sign, digits only, nothing after, min..max.
 * Returns 0 and sets *out, or -1. */
int ctl__parse_int(const char *s, int64_t min, int64_t max, int64_t *out);
/* A --limit value, 1..INT_MAX, into *limit. Returns 0, or a usage error's exit status. */
int ctl__parse_limit(struct ctl *c, const char *arg, int64_t *limit);

/* ---- Output (ctl_output.c) -------------------------------------------------------- */

/* Prints a command's full help, a group's command list (group NULL: every command),
 * for --help and usage errors. */
void ctl__usage(FILE *f, const struct ctl_cmd *cmd);
void ctl__usage_list(FILE *f, const struct ctl_cmd *table, const char *group);
/* A usage error: the reason and a hint on stderr (and a JSON error with --json).
 * Returns CTL_EXIT_USAGE. */
int ctl__usage_error(struct ctl *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A failed operation: `depotctl: <message>` on stderr, and with --json
 * {"error":{"code":depot_err_code(e),"message":...}} on stdout. Returns CTL_EXIT_FAIL. */
int ctl__fail(struct ctl *c, depot_err e, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* ctl__fail with the store's reason for e. */
int ctl__store_fail(struct ctl *c, depot_store *st, depot_err e);
/* Success: with --json prints doc, else the formatted line. Frees doc (taking a NULL
 * doc as out of memory). Returns CTL_EXIT_OK, or CTL_EXIT_FAIL. */
int ctl__done(struct ctl *c, cJSON *doc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Views of store documents: with --json the document itself, else a readable table.
 * Each frees doc and returns CTL_EXIT_OK. */
int ctl__print_stock(struct ctl *c, cJSON *doc);
int ctl__print_order(struct ctl *c, cJSON *doc);
int ctl__print_orders(struct ctl *c, cJSON *doc);
int ctl__print_outbox(struct ctl *c, cJSON *doc);
/* The outcome of a stock import: the summary (CTL_EXIT_OK), or every error by row and
 * column (CTL_EXIT_FAIL) when res lists any. */
int ctl__print_import(struct ctl *c, const char *path, const struct depot_import_result *res);
/* The outcome of verify: OK when problems is empty, else every problem (CTL_EXIT_FAIL).
 * Frees problems. */
int ctl__print_verify(struct ctl *c, const char *db_path, cJSON *problems);

/* ---- Outbox and inbox (ctl_dead_letters.c) ----------------------------------------- */

/* How one queue is listed: the store's list (dead_only, limit) and the printer of its
 * document (which frees it); limits above max_limit are lowered to it. */
struct ctl_queue_list {
    depot_err (*list)(depot_store *st, int dead_only, int limit, cJSON **out);
    int (*print)(struct ctl *c, cJSON *doc);
    int64_t max_limit;
};
/* `[--dead] [--limit N]`: lists the queue's waiting (or only its dead) rows through how. */
int ctl__list_queue(struct ctl *c, int argc, char **argv, const struct ctl_queue_list *how);

/* How one kind of dead letter is made due again, and the words for it. */
struct ctl_requeue {
    const char *thing;     /* "outbox event": names an id in messages */
    const char *count_key; /* JSON key of how many were made due */
    depot_err (*one)(depot_store *st, int64_t id, const char *actor);
    depot_err (*all_dead)(depot_store *st, const char *actor, int *n);
    const char *one_done, *all_done; /* "<thing> <id> <one_done>", "<n> <all_done>" */
};
/* `ID | --all-dead`: makes that dead letter, or every one, due again through how. */
int ctl__requeue_dead(struct ctl *c, int argc, char **argv, const struct ctl_requeue *how);

/* ---- The store (ctl_db.c) --------------------------------------------------------- */

/* DIR/depot.db of this invocation into buf; -1 (after ctl__fail) if too long. */
int ctl__db_path(struct ctl *c, char *buf, size_t len);
/* Opens the existing database of the data dir (never creating one). Returns
 * CTL_EXIT_OK with *st set, or CTL_EXIT_FAIL after printing why. */
int ctl__open(struct ctl *c, int readonly, depot_store **st);
/* Loads the master key the daemon uses (see master_key.h; the development key only when
 * running from a checkout). Returns CTL_EXIT_OK, or CTL_EXIT_FAIL after printing why. */
int ctl__master_key(struct ctl *c, uint8_t key[DEPOT_MASTER_KEY_LEN]);

/* ---- Outside accounts (ctl_accounts.c) -------------------------------------------- */

#define CTL_SECRET_LINE_MAX 4096
/* Allocates *buf (n lines) and replaces every "-" among vals[0..n) with the next line of
 * stdin (without its line end) read into (*buf)[i]; order names the options' order for
 * the error. Returns CTL_EXIT_OK, or CTL_EXIT_FAIL after printing why. Either way the
 * caller ends with ctl__wipe_secrets(*buf, n), which zeroes and frees it (NULL is fine). */
int ctl__read_secrets(struct ctl *c, const char **vals, int n, const char *order,
                      char (**buf)[CTL_SECRET_LINE_MAX]);
void ctl__wipe_secrets(char (*buf)[CTL_SECRET_LINE_MAX], int n);
/* A list command without options: opens the store read-only and gets *doc from list.
 * With --json prints and frees it, returning the exit status; without, returns CTL_GO
 * and the caller prints *doc as a table and frees it. Failures return their status. */
int ctl__account_list(struct ctl *c, int argc, char **argv,
                      depot_err (*list)(depot_store *st, cJSON **doc), cJSON **doc);

/* ---- Commands --------------------------------------------------------------------- */

int ctl__db_init(struct ctl *c, int argc, char **argv);
int ctl__db_verify(struct ctl *c, int argc, char **argv);
int ctl__db_backup(struct ctl *c, int argc, char **argv);
int ctl__db_restore(struct ctl *c, int argc, char **argv);
/* fsync()s the directory holding file, making a rename into it durable; 0 or -1. */
int ctl__sync_parent_dir(const char *file);
int ctl__stock_import(struct ctl *c, int argc, char **argv);
int ctl__stock_show(struct ctl *c, int argc, char **argv);
int ctl__stock_adjust(struct ctl *c, int argc, char **argv);
int ctl__order_list(struct ctl *c, int argc, char **argv);
int ctl__order_show(struct ctl *c, int argc, char **argv);
int ctl__order_create(struct ctl *c, int argc, char **argv);
int ctl__order_reserve(struct ctl *c, int argc, char **argv);
int ctl__order_release(struct ctl *c, int argc, char **argv);
int ctl__order_cancel(struct ctl *c, int argc, char **argv);
int ctl__order_ship(struct ctl *c, int argc, char **argv);
int ctl__user_add(struct ctl *c, int argc, char **argv);
int ctl__token_create(struct ctl *c, int argc, char **argv);
int ctl__outbox_list(struct ctl *c, int argc, char **argv);
int ctl__outbox_retry(struct ctl *c, int argc, char **argv);
int ctl__inbox_list(struct ctl *c, int argc, char **argv);
int ctl__inbox_show(struct ctl *c, int argc, char **argv);
int ctl__inbox_replay(struct ctl *c, int argc, char **argv);
int ctl__gs1_parse(struct ctl *c, int argc, char **argv);
int ctl__label_sku(struct ctl *c, int argc, char **argv);
int ctl__label_bin(struct ctl *c, int argc, char **argv);
int ctl__label_sscc(struct ctl *c, int argc, char **argv);
int ctl__print_list(struct ctl *c, int argc, char **argv);
int ctl__print_cancel(struct ctl *c, int argc, char **argv);
int ctl__print_reprint(struct ctl *c, int argc, char **argv);
int ctl__printer_add(struct ctl *c, int argc, char **argv);
int ctl__printer_list(struct ctl *c, int argc, char **argv);
int ctl__printer_test(struct ctl *c, int argc, char **argv);
int ctl__channel_add(struct ctl *c, int argc, char **argv);
int ctl__channel_list(struct ctl *c, int argc, char **argv);
int ctl__channel_map_sku(struct ctl *c, int argc, char **argv);
int ctl__channel_map_location(struct ctl *c, int argc, char **argv);
int ctl__carrier_add(struct ctl *c, int argc, char **argv);
int ctl__carrier_list(struct ctl *c, int argc, char **argv);
int ctl__carrier_test(struct ctl *c, int argc, char **argv);
int ctl__carrier_track(struct ctl *c, int argc, char **argv);
int ctl__carrier_void(struct ctl *c, int argc, char **argv);
int ctl__app_set(struct ctl *c, int argc, char **argv);
int ctl__app_install(struct ctl *c, int argc, char **argv);
int ctl__shipment_label(struct ctl *c, int argc, char **argv);
int ctl__shipment_void(struct ctl *c, int argc, char **argv);
int ctl__station_add(struct ctl *c, int argc, char **argv);
int ctl__station_list(struct ctl *c, int argc, char **argv);
int ctl__scanner_add(struct ctl *c, int argc, char **argv);
int ctl__scanner_list(struct ctl *c, int argc, char **argv);
int ctl__scanner_move(struct ctl *c, int argc, char **argv);
int ctl__scan(struct ctl *c, int argc, char **argv);

#endif
