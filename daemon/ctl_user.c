/* depotctl's people and credentials: user add (password from stdin) and token create
 * (shown once). */
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include "ctl.h"

#define PASSWORD_BUF 2048 /* more than the store accepts, so too long is reported */

/* Reads a password from stdin: one line without echo on a terminal, else all of the
 * input; one trailing newline is removed. Returns 0, or -1 with a reason in err. */
static int read_password(const char *name, char *buf, size_t cap, const char **err)
{
    struct termios saved, quiet;
    int tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
    size_t n;
    if (tty) {
        fprintf(stderr, "password for %s: ", name);
        quiet = saved;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
        n = fgets(buf, (int)cap, stdin) ? strlen(buf) : 0;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
        fputc('\n', stderr);
    } else {
        n = fread(buf, 1, cap - 1, stdin);
        buf[n] = '\0';
    }
    if (ferror(stdin)) {
        *err = "cannot read the password from stdin";
        return -1;
    }
    if (n == cap - 1) {
        *err = "password is too long";
        return -1;
    }
    if (strlen(buf) != n) {
        *err = "password must not contain NUL bytes";
        return -1;
    }
    if (n > 0 && buf[n - 1] == '\n')
        buf[n - 1] = '\0';
    return 0;
}

int ctl__user_add(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"role", required_argument, NULL, 'r'},
        {"password", required_argument, NULL, 'p'},
        {0},
    };
    const char *role = NULL, *password_arg = NULL, *err;
    char password[PASSWORD_BUF];
    int64_t id = 0;
    depot_store *st;
    int o, rc;
    while ((o = ctl__getopt(c, argc, argv, opts)) > 0) {
        switch (o) {
        case 'r': role = optarg; break;
        case 'p': password_arg = optarg; break;
        }
    }
    if (o < 0)
        return ctl__opts_exit(o);
    if (ctl__positional(c, argc, argv, 1) != 0)
        return CTL_EXIT_USAGE;
    if (!role)
        return ctl__usage_error(c, "--role is required");
    if (password_arg && strcmp(password_arg, "-") != 0)
        return ctl__usage_error(c, "passwords are never taken from the command line; "
                                   "use --password - and give it on stdin");
    const char *name = argv[optind];
    if ((rc = ctl__open(c, 0, &st)) != CTL_EXIT_OK)
        return rc;
    if (password_arg && read_password(name, password, sizeof password, &err) != 0) {
        rc = ctl__fail(c, DEPOT_E_INVALID, "%s", err);
        goto out;
    }
    depot_err e = depot_user_add(st, name, role, password_arg ? password : NULL, c->actor,
                                 &id);
    if (e != DEPOT_OK) {
        rc = ctl__store_fail(c, st, e);
        goto out;
    }
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "id", (double)id);
    cJSON_AddStringToObject(doc, "name", name);
    cJSON_AddStringToObject(doc, "role", role);
    cJSON_AddBoolToObject(doc, "password", password_arg != NULL);
    rc = ctl__done(c, doc, "user %s added (id %lld, role %s, %s)", name, (long long)id, role,
                   password_arg ? "password set" : "no password");
out:
    depot_store_close(st);
    explicit_bzero(password, sizeof password);
    return rc;
}

int ctl__token_create(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"role", required_argument, NULL, 'r'},
        {0},
    };
    const char *role = NULL;
    char token[DEPOT_TOKEN_LEN + 1];
    int64_t id = 0;
    depot_store *st;
    int o, rc;
    while ((o = ctl__getopt(c, argc, argv, opts)) > 0)
        if (o == 'r')
            role = optarg;
    if (o < 0)
        return ctl__opts_exit(o);
    if (ctl__positional(c, argc, argv, 1) != 0)
        return CTL_EXIT_USAGE;
    if (!role)
        return ctl__usage_error(c, "--role is required");
    if ((rc = ctl__open(c, 0, &st)) != CTL_EXIT_OK)
        return rc;
    const char *name = argv[optind];
    depot_err e = depot_token_create(st, name, role, c->actor, token, &id);
    if (e != DEPOT_OK)
        rc = ctl__store_fail(c, st, e);
    depot_store_close(st);
    if (e != DEPOT_OK)
        return rc;
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "id", (double)id);
    cJSON_AddStringToObject(doc, "name", name);
    cJSON_AddStringToObject(doc, "role", role);
    cJSON_AddStringToObject(doc, "token", token);
    if (!c->json)
        fprintf(stderr, "token %lld (%s, role %s) created; it is shown only this once\n",
                (long long)id, name, role);
    rc = ctl__done(c, doc, "%s", token);
    explicit_bzero(token, sizeof token);
    return rc;
}
