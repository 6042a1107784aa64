/* depotctl, the admin CLI: global options, the command table, dispatch, and the argument
 * helpers every command uses. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "config.h"
#include "ctl.h"
#include "sync.h"

/* Rationale: every command parses its own options with getopt_long after the global
 * ones. glibc keeps the scanning mode of the first scan (the "+" that stops the global
 * scan at the command word) unless optind is set to 0, which re-initialises it; 1 would
 * leave `stock adjust SKU --delta 5` unparsed after SKU. So dispatch resets optind to 0. */

enum { OPT_JSON = 0x100, OPT_DATA_DIR, OPT_VERSION };

#define LABEL_OPTIONS                                                                  \
    "  --stdout         print the ZPL on stdout (with --json as {\"zpl\":...})\n"     \
    "  --printer NAME   queue it as a print job for NAME; prints the job id\n"         \
    "  --dpi N          203 or 300 (default 203)\n"

static const struct ctl_cmd commands[] = {
    {NULL, "init", ctl__db_init, "",
     "Create the data directory (mode 0700) and the database, or bring it up to date.",
     NULL},
    {NULL, "verify", ctl__db_verify, "",
     "Check schema, integrity, stock invariants, ledger sums and the audit hash chain.",
     NULL},
    {NULL, "backup", ctl__db_backup, "FILE [--force]",
     "Write a consistent copy of the database to FILE (safe beside a running depotd).",
     "  --force          replace FILE if it exists\n"},
    {NULL, "restore", ctl__db_restore, "FILE",
     "Replace the database with a verified backup (refused while depotd runs).",
     "  the current database is kept as depot.db.before-restore-<unix time>\n"},
    {"stock", "import", ctl__stock_import, "FILE.csv",
     "Set stock levels from a CSV file, all rows or none.",
     "  header: sku,name,gtin,location,on_hand with optional bin and buffer columns;\n"
     "  on_hand is the absolute count, the ledger records the difference\n"},
    {"stock", "show", ctl__stock_show, "SKU",
     "Show a SKU's GTINs and its stock at every location.", NULL},
    {"stock", "adjust", ctl__stock_adjust, "SKU --location L --delta N --reason TEXT",
     "Add N to the on-hand count of SKU at location L.",
     "  --location L     location code\n"
     "  --delta N        non-zero change, e.g. +5 or -3\n"
     "  --reason TEXT    why (kept in the ledger and the audit log)\n"},
    {"order", "list", ctl__order_list, "[--status S] [--limit N]",
     "List orders, newest first.",
     "  --status S       open|reserved|needs_attention|packed|shipped|cancelled\n"
     "  --limit N        at most N orders (1..1000, default 50)\n"},
    {"order", "show", ctl__order_show, "ID",
     "Show an order with its lines and reservations.", NULL},
    {"order", "create", ctl__order_create,
     "--external-id X [--number N] --line SKU:QTY [--line SKU:QTY ...]",
     "Create a local order; an existing external id returns that order.",
     "  --external-id X  the order's id where it came from (unique among local orders)\n"
     "  --number N       display number\n"
     "  --line SKU:QTY   one line: a known SKU and a quantity (repeat for more)\n"},
    {"order", "reserve", ctl__order_reserve, "ID [--ttl SECONDS]",
     "Reserve stock for every line of the order, or for none.",
     "  --ttl SECONDS    let the reservation expire after SECONDS (default: never)\n"},
    {"order", "release", ctl__order_release, "ID",
     "Release the order's reservations; the order goes back to open.", NULL},
    {"order", "cancel", ctl__order_cancel, "ID",
     "Release the order's reservations and cancel it.", NULL},
    {"order", "ship", ctl__order_ship, "ID --carrier C [--tracking T]",
     "Ship a fully reserved order: its stock leaves on hand.",
     "  --carrier C      fedex, ups, dhl, manual, ...\n"
     "  --tracking T     tracking number\n"},
    {"user", "add", ctl__user_add, "NAME --role ROLE [--password -]",
     "Add a user (without --password the user signs in by token or badge only).",
     "  --role ROLE      packer, supervisor or admin\n"
     "  --password -     read the password from stdin (never from the command line)\n"},
    {"token", "create", ctl__token_create, "NAME --role ROLE",
     "Create an API token; it is printed once, only its hash is kept.",
     "  --role ROLE      packer, supervisor or admin\n"},
    {"outbox", "list", ctl__outbox_list, "[--dead] [--limit N]",
     "List pending and dead outbox events, oldest first.",
     "  --dead           only dead events\n"
     "  --limit N        at most N events (1..1000, default 100)\n"},
    {"outbox", "retry", ctl__outbox_retry, "ID | --all-dead",
     "Make a dead outbox event, or every dead one, due again.",
     "  --all-dead       retry every dead event\n"},
    {"inbox", "list", ctl__inbox_list, "[--dead] [--limit N]",
     "List waiting (pending, failed) and dead webhook deliveries, oldest first.",
     "  --dead           only dead deliveries\n"
     "  --limit N        at most N deliveries (1..1000, default 100)\n"},
    {"inbox", "show", ctl__inbox_show, "ID",
     "Show one webhook delivery: its status, last error and body.", NULL},
    {"inbox", "replay", ctl__inbox_replay, "ID | --all-dead",
     "Queue a dead webhook delivery, or every dead one, for processing again.",
     "  --all-dead       replay every dead delivery\n"},
    {"channel", "add", ctl__channel_add,
     "shopify --shop DOMAIN --token T --webhook-secret S [--api-base URL] [--api-version V]\n"
     "         [--webhook-url URL]\n"
     "       | woocommerce --store URL --key CK --secret CS --webhook-secret S [--api-base URL]",
     "Connect a sales channel; its secrets are stored encrypted (re-run to rotate them).",
     "  --shop DOMAIN    the shop's <name>.myshopify.com domain\n"
     "  --store URL      the WooCommerce store's URL (as in X-WC-Webhook-Source)\n"
     "  --token T        Shopify Admin API access token\n"
     "  --key CK         WooCommerce consumer key\n"
     "  --secret CS      WooCommerce consumer secret\n"
     "  --webhook-secret S  the secret webhooks are signed with\n"
     "  --api-base URL   send API calls here instead of the platform (test servers)\n"
     "  --api-version V  Shopify Admin API version (default " DEPOT_SHOPIFY_API_VERSION ")\n"
     "  --webhook-url URL  subscribe the shop's webhooks to this public URL of\n"
     "                   /webhooks/shopify (queued; the daemon delivers it)\n"
     "  a secret given as - is read from stdin, one line each, in the order above\n"},
    {"channel", "list", ctl__channel_list, "",
     "List sales channels and which credentials they hold (never the values).", NULL},
    {"channel", "map-sku", ctl__channel_map_sku,
     "CHANNEL SKU [--product ID] [--variant ID] [--inventory-item ID]",
     "Map a SKU to the channel's product/variant/inventory item; pushes its stock.",
     "  CHANNEL          channel id, shop domain or store URL\n"
     "  --product ID     product id (WooCommerce product, Shopify product)\n"
     "  --variant ID     Shopify variant id (or WooCommerce variation id)\n"
     "  --inventory-item ID  Shopify inventory item id\n"},
    {"channel", "map-location", ctl__channel_map_location,
     "CHANNEL LOCATION --external-id ID [--buffer N]",
     "Sell a location's stock on the channel, as the channel's location ID.",
     "  --external-id ID the channel's location id (Shopify location; WooCommerce: any)\n"
     "  --buffer N       units held back from what this channel is told (default 0)\n"},
    {"carrier", "add", ctl__carrier_add,
     "fedex|ups|dhl --client-id ID --client-secret SECRET [--account NUMBER] [--api-base URL]\n"
     "       [--token-url URL] [--name NAME] [--username U --password P] [--config JSON]",
     "Connect a carrier account; its secrets are stored encrypted (re-run to rotate them).",
     "  --client-id ID   OAuth client id (FedEx/UPS API key; DHL API key)\n"
     "  --client-secret SECRET  OAuth client secret\n"
     "  --username U     DHL Parcel DE business customer portal user (dhl only)\n"
     "  --password P     its password (dhl only)\n"
     "  --account NUMBER FedEx account, UPS shipper number, DHL billing number\n"
     "  --api-base URL   send API calls here instead of the carrier (test servers)\n"
     "  --token-url URL  token endpoint (default: derived from the API base)\n"
     "  --name NAME      the carrier's name in Depot (default: the kind)\n"
     "  --config JSON    {\"shipper\":{address},\"service\":..,\"profile\":..}\n"
     "  a secret given as - is read from stdin, one line each, in the order above\n"},
    {"carrier", "list", ctl__carrier_list, "",
     "List carriers and which credentials they hold (never the values).", NULL},
    {"carrier", "test", ctl__carrier_test, "NAME",
     "Get a token through the token service; prints its expiry, never the token.", NULL},
    {"carrier", "track", ctl__carrier_track, "NAME TRACKING",
     "Ask the carrier for a shipment's current status.", NULL},
    {"carrier", "void", ctl__carrier_void, "NAME TRACKING",
     "Void a label at the carrier so it is not billed.", NULL},
    {"shipment", "label", ctl__shipment_label,
     "ID --carrier NAME --weight KG [--service S] [--format zpl|pdf|png] [--printer NAME]",
     "Get a shipment's label from a carrier (committed first: safe to re-run after a crash).",
     "  --carrier NAME   the carrier account (see carrier list)\n"
     "  --weight KG      parcel weight in kilograms\n"
     "  --service S      carrier service code (default: the carrier config's, else the\n"
     "                   carrier's ground service)\n"
     "  --format F       zpl for thermal printers (default), pdf or png\n"
     "  --printer NAME   queue the label to this printer\n"},
    {"shipment", "void", ctl__shipment_void, "ID [--then none|release|restock]",
     "Void a shipment's label at its carrier (so it is not billed), then mark it voided and "
     "release the goods to the order again or restock them.",
     NULL},
    {"app", "set", ctl__app_set, "shopify --client-id ID --client-secret SECRET --scopes LIST",
     "Set the Shopify app credentials the OAuth install uses (stored encrypted).",
     "  --scopes LIST    e.g. read_orders,write_fulfillments,write_inventory\n"
     "  a secret given as - is read from stdin, one line each, id first\n"},
    {"app", "install", ctl__app_install, "shopify --shop DOMAIN --redirect-uri URL",
     "Start the Shopify OAuth install: print the authorize link (single-use, 10 minutes).",
     "  --redirect-uri URL  depotd's https://HOST/oauth/shopify/callback, as listed in\n"
     "                      the app's settings\n"
     "  --api-base URL      send the shop's owner to another base URL (test servers)\n"},
    {"gs1", "parse", ctl__gs1_parse, "< SCAN",
     "Parse one raw scan from stdin: AIM symbology identifier and GS1 AIs.",
     "  stdin: the scan's bytes, FNC1 as ASCII 29 (GS), optional AIM prefix such as\n"
     "  ]C1, one trailing CR/LF ignored; EAN-13/UPC-A and EAN-8 show their GTIN-14\n"
     "  as (01); other non-GS1 symbologies show their data as it is\n"},
    {"label", "sku", ctl__label_sku, "SKU [--dpi 203|300] [--stock 4x6|2x1] --stdout|--printer NAME",
     "Build a SKU's ZPL label (Code 128, name, GTIN); print it or queue it.",
     LABEL_OPTIONS "  --stock S        4x6 or 2x1 (default 2x1)\n"},
    {"label", "bin", ctl__label_bin, "CODE [--dpi 203|300] [--stock 4x6|2x1] --stdout|--printer NAME",
     "Build a bin's ZPL label (Code 128, large text); print it or queue it.",
     LABEL_OPTIONS "  --stock S        4x6 or 2x1 (default 2x1)\n"},
    {"label", "sscc", ctl__label_sscc, "SSCC [--dpi 203|300] [--stock 4x6|2x1] --stdout|--printer NAME",
     "Build a GS1-128 logistics label for an 18-digit SSCC; print it or queue it.",
     LABEL_OPTIONS "  --stock S        4x6 or 2x1 (default 4x6)\n"},
    {"print", "list", ctl__print_list, "[--printer NAME] [--limit N]",
     "List print jobs, newest first.",
     "  --printer NAME   only this printer's jobs\n"
     "  --limit N        at most N jobs (1..1000, default 100)\n"},
    {"print", "cancel", ctl__print_cancel, "ID",
     "Cancel a queued or failed print job.", NULL},
    {"print", "reprint", ctl__print_reprint, "ID",
     "Queue a print job's label again as a new job; prints the new job's id.", NULL},
    {"printer", "add", ctl__printer_add,
     "NAME --backend serial|tcp|file --address A [--serial S] [--dpi 203|300]\n"
     "       [--stock 4x6|2x1] [--timeout-ms N] [--disabled]",
     "Add a label printer, or replace the configuration of NAME (depotd follows).",
     "  --backend B      serial (libserialport), tcp (raw port 9100) or file (/dev/usb/lp0)\n"
     "  --address A      serial: port path, e.g. /dev/serial/by-id/usb-...;\n"
     "                   tcp: HOST:PORT; file: device path\n"
     "  --serial S       serial line settings BAUD,BITS,PARITY,STOP,FLOW\n"
     "                   (default 9600,8,N,1,none)\n"
     "  --dpi N          203 or 300 (default 203)\n"
     "  --stock S        label stock loaded: 4x6 or 2x1 (default 4x6)\n"
     "  --timeout-ms N   bound on connect, write and status reply (default 5000)\n"
     "  --disabled       keep its jobs queued: the print worker does not serve it\n"},
    {"printer", "list", ctl__printer_list, "",
     "List label printers with their configuration and queued jobs.", NULL},
    {"printer", "test", ctl__printer_test, "NAME",
     "Queue a test label on printer NAME; prints the job id.", NULL},
    {"station", "add", ctl__station_add, "NAME [--printer P]",
     "Add a packing station, optionally with the label printer it prints to.", NULL},
    {"station", "list", ctl__station_list, "",
     "List packing stations with their printer and scanners.", NULL},
    {"scanner", "add", ctl__scanner_add,
     "NAME --station S --port PATH [--baud N --bits N --parity N|E|O --stop N "
     "--flow none|xonxoff|rtscts --suffix cr|lf|crlf|timeout:MS --prefix TEXT --disabled]",
     "Add a serial barcode scanner to a station (depotd opens it after SIGHUP).",
     "  --port PATH      the serial device; prefer /dev/serial/by-id/... (stable)\n"
     "  --baud N         default 9600; --bits N default 8; --parity N|E|O default N;\n"
     "  --stop N         default 1; --flow none|xonxoff|rtscts default none\n"
     "  --suffix S       what ends a scan: cr (default), lf, crlf, or timeout:MS (a gap)\n"
     "  --prefix TEXT    a prefix the scanner sends before each scan (removed)\n"
     "  --disabled       configure it without opening it\n"},
    {"scanner", "list", ctl__scanner_list, "",
     "List configured scanners and their serial settings.", NULL},
    {"scanner", "move", ctl__scanner_move, "NAME --station S",
     "Re-pair scanner NAME with station S (depotd applies it on SIGHUP).", NULL},
    {NULL, "scan", ctl__scan, "--station S CODE",
     "Scan CODE at a station through its simulated scanner (demo: depot-scan-sim).",
     "  CODE             the barcode's data, escapes decoded by the simulator: \\x1d is\n"
     "                   FNC1/GS, so ']C1010400638133393110LOT\\x1d17271231' is GS1-128\n"},
    {0},
};

static int bad_option(struct ctl *c, int o, char **argv)
{
    if (o == ':')
        return ctl__usage_error(c, "option '%s' needs a value", argv[optind - 1]);
    if (optopt)
        return ctl__usage_error(c, "unknown option '-%c'", optopt);
    return ctl__usage_error(c, "unknown option '%s'", argv[optind - 1]);
}

int ctl__getopt(struct ctl *c, int argc, char **argv, const struct option *opts)
{
    struct option all[16];
    size_t n = 0;
    while (opts && opts[n].name && n < 12) {
        all[n] = opts[n];
        n++;
    }
    all[n++] = (struct option){"help", no_argument, NULL, 'h'};
    all[n++] = (struct option){"json", no_argument, NULL, OPT_JSON};
    all[n++] = (struct option){"data-dir", required_argument, NULL, OPT_DATA_DIR};
    all[n] = (struct option){0};
    opterr = 0;
    for (;;) {
        int o = getopt_long(argc, argv, ":h", all, NULL);
        switch (o) {
        case -1:
            return CTL_OPTS_END;
        case 'h':
            ctl__usage(stdout, c->cmd);
            return CTL_OPTS_HELP;
        case OPT_JSON:
            c->json = 1;
            break;
        case OPT_DATA_DIR:
            c->data_dir = optarg;
            break;
        case ':':
        case '?':
            bad_option(c, o, argv);
            return CTL_OPTS_BAD;
        default:
            return o;
        }
    }
}

int ctl__opts_exit(int opts_status)
{
    return opts_status == CTL_OPTS_HELP ? CTL_EXIT_OK : CTL_EXIT_USAGE;
}

int ctl__positional(struct ctl *c, int argc, char **argv, int n)
{
    int have = argc - optind;
    if (have == n)
        return 0;
    if (have < n)
        ctl__usage_error(c, "missing argument");
    else
        ctl__usage_error(c, "unexpected argument '%s'", argv[optind + n]);
    return -1;
}

int ctl__plain_args(struct ctl *c, int argc, char **argv, int n)
{
    int o = ctl__getopt(c, argc, argv, NULL);
    if (o < 0)
        return ctl__opts_exit(o);
    return ctl__positional(c, argc, argv, n) == 0 ? CTL_GO : CTL_EXIT_USAGE;
}

int ctl__parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
    const char *digits = s + (*s == '+' || *s == '-');
    if (!isdigit((unsigned char)*digits))
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int ctl__parse_limit(struct ctl *c, const char *arg, int64_t *limit)
{
    if (ctl__parse_int(arg, 1, INT_MAX, limit) != 0)
        return ctl__usage_error(c, "--limit takes a positive number, not '%s'", arg);
    return 0;
}

static void set_actor(struct ctl *c)
{
    const struct passwd *pw = getpwuid(geteuid());
    if (pw && pw->pw_name)
        snprintf(c->actor, sizeof c->actor, "cli:%s", pw->pw_name);
    else
        snprintf(c->actor, sizeof c->actor, "cli:uid%lu", (unsigned long)geteuid());
}

static int run(struct ctl *c, const struct ctl_cmd *cmd, int argc, char **argv)
{
    c->cmd = cmd;
    optind = 0; /* see the rationale at the top */
    return cmd->run(c, argc, argv);
}

static int dispatch(struct ctl *c, int argc, char **argv)
{
    const char *word = argv[0];
    int is_group = 0;
    for (const struct ctl_cmd *k = commands; k->name; k++) {
        if (!k->group && !strcmp(k->name, word))
            return run(c, k, argc, argv);
        is_group |= k->group && !strcmp(k->group, word);
    }
    if (!is_group)
        return ctl__usage_error(c, "unknown command '%s'", word);
    if (argc < 2)
        return ctl__usage_error(c, "'%s' needs a command; see 'depotctl %s --help'", word,
                                word);
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        ctl__usage_list(stdout, commands, word);
        return CTL_EXIT_OK;
    }
    for (const struct ctl_cmd *k = commands; k->name; k++)
        if (k->group && !strcmp(k->group, word) && !strcmp(k->name, argv[1]))
            return run(c, k, argc - 1, argv + 1);
    return ctl__usage_error(c, "unknown command '%s %s'", word, argv[1]);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data-dir", required_argument, NULL, OPT_DATA_DIR},
        {"json", no_argument, NULL, OPT_JSON},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, OPT_VERSION},
        {0},
    };
    struct ctl c = {0};
    umask(077); /* databases and backups hold password hashes and secrets */
    c.data_dir = getenv("DEPOT_DATA_DIR");
    if (!c.data_dir || !*c.data_dir)
        c.data_dir = depot_config_default_data_dir();
    set_actor(&c);
    char err[256];
    if (depot_http_trust_file(getenv("DEPOT_UPSTREAM_CA_FILE"), err, sizeof err) != 0) {
        fprintf(stderr, "depotctl: %s\n", err);
        return CTL_EXIT_USAGE;
    }
    opterr = 0;
    int o;
    while ((o = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
        switch (o) {
        case OPT_DATA_DIR:
            c.data_dir = optarg;
            break;
        case OPT_JSON:
            c.json = 1;
            break;
        case 'h':
            ctl__usage_list(stdout, commands, NULL);
            return CTL_EXIT_OK;
        case OPT_VERSION:
            printf("depotctl %s\n", DEPOT_VERSION);
            return CTL_EXIT_OK;
        default:
            return bad_option(&c, o, argv);
        }
    }
    if (optind >= argc)
        return ctl__usage_error(&c, "no command given");
    return dispatch(&c, argc - optind, argv + optind);
}
