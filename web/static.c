/* Static UI files from the UI root: path checks (nothing outside the root is ever
 * opened), content types, caching headers, ETag and 304, HEAD. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "log.h"
#include "web_int.h"

#define STATIC_MAX_BYTES (16 * 1024 * 1024)

/* Only these are served; anything else (README.md, editor backups) is not found. */
static const struct {
    const char *ext;
    const char *type;
} content_types[] = {
    {"html", "text/html; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"json", "application/json"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"ico", "image/x-icon"},
    {"woff2", "font/woff2"},
    {"txt", "text/plain; charset=utf-8"},
    {"wav", "audio/wav"},
    {"mp3", "audio/mpeg"},
};

static const char *content_type(const char *file)
{
    const char *slash = strrchr(file, '/'), *dot = strrchr(file, '.');
    if (!dot || (slash && dot < slash))
        return NULL;
    for (size_t i = 0; i < sizeof content_types / sizeof content_types[0]; i++)
        if (strcasecmp(dot + 1, content_types[i].ext) == 0)
            return content_types[i].type;
    return NULL;
}

/* Rationale: the path arrives URL-decoded once. A "%" left in it means it was encoded
 * twice (%252e%252e), which no file of ours needs, so it is refused rather than decoded
 * again; so are "..", backslashes, control characters and any segment starting with a
 * dot (hidden files). What passes is then resolved with realpath() and must still lie
 * under the root, which also catches symlinks that lead out. */
static int path_allowed(const char *path)
{
    if (path[0] != '/' || strstr(path, ".."))
        return 0;
    for (const char *p = path; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch == '\\' || ch == '%' || ch < 0x20 || ch == 0x7f)
            return 0;
        if (ch == '/' && (p[1] == '.' || p[1] == '/'))
            return 0;
    }
    return 1;
}

int web_static_resolve(const char *root, const char *path, char *out, size_t outlen)
{
    char candidate[PATH_MAX], real[PATH_MAX];
    size_t rootlen = strlen(root);
    if (rootlen == 0 || !path_allowed(path))
        return -1;
    const char *index = path[strlen(path) - 1] == '/' ? "index.html" : "";
    int n = snprintf(candidate, sizeof candidate, "%s%s%s", root, path, index);
    if (n < 0 || (size_t)n >= sizeof candidate || !realpath(candidate, real))
        return -1;
    if (strncmp(real, root, rootlen) != 0 || real[rootlen] != '/' || strlen(real) >= outlen)
        return -1;
    memcpy(out, real, strlen(real) + 1);
    return 0;
}

/* If-None-Match: "*" or a comma-separated list of (possibly weak) tags. */
static int etag_matches(struct web_request *req, const char *etag)
{
    char list[512];
    if (!web_header(req, "if-none-match", list, sizeof list))
        return 0;
    char *save = NULL;
    for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ' || *tok == '\t')
            tok++;
        size_t len = strlen(tok);
        while (len && (tok[len - 1] == ' ' || tok[len - 1] == '\t'))
            tok[--len] = '\0';
        if (strncmp(tok, "W/", 2) == 0)
            tok += 2;
        if (strcmp(tok, "*") == 0 || strcmp(tok, etag) == 0)
            return 1;
    }
    return 0;
}

static void not_found(struct web_response *res, const char *path)
{
    web_respond_error(res, 404, "not_found", "no such file: %s", path);
}

/* The whole file into a malloc'd buffer; NULL on error or a short read. */
static char *read_all(int fd, size_t size)
{
    char *buf = malloc(size + 1);
    size_t got = 0;
    while (buf && got < size) {
        ssize_t n = read(fd, buf + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            free(buf);
            return NULL;
        }
        got += (size_t)n;
    }
    if (buf)
        buf[size] = '\0';
    return buf;
}

/* Sets a 200 whose body is buf (taken over; NULL with len > 0 only for HEAD, which
 * sends the length and no body). */
static void respond_file(struct web_response *res, const char *type, char *buf, size_t len)
{
    free(res->body);
    res->status = 200;
    res->content_type = type;
    res->body = buf;
    res->body_len = len;
}

void web_static_serve(struct web_request *req, struct web_response *res)
{
    struct web_server *srv = req->srv;
    char file[PATH_MAX], etag[64];
    const char *type = NULL;
    struct stat sb;
    int fd = -1;
    if (!srv->ui_root[0] || web_static_resolve(srv->ui_root, req->path, file, sizeof file) ||
        !(type = content_type(file)) ||
        (fd = open(file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0 || fstat(fd, &sb) != 0 ||
        !S_ISREG(sb.st_mode)) {
        not_found(res, req->path);
        goto out;
    }
    if (sb.st_size > STATIC_MAX_BYTES) {
        depot_log(DEPOT_LOG_WARN, "web", "not serving %s: larger than %d bytes", file,
                  STATIC_MAX_BYTES);
        not_found(res, req->path);
        goto out;
    }
    snprintf(etag, sizeof etag, "\"%llx-%llx\"", (unsigned long long)sb.st_size,
             (unsigned long long)sb.st_mtim.tv_sec * 1000000000ULL +
                 (unsigned long long)sb.st_mtim.tv_nsec);
    size_t size = (size_t)sb.st_size;
    char *buf = NULL;
    if (etag_matches(req, etag)) {
        web_respond_raw(res, 304, type, "", 0);
    } else if (req->method == WEB_HEAD) {
        respond_file(res, type, NULL, size);
    } else if ((buf = read_all(fd, size))) {
        respond_file(res, type, buf, size);
    } else {
        web_respond_error(res, 500, "read_failed", "cannot read %s", req->path);
        goto out;
    }
    web_add_header(res, "ETag", etag);
    web_add_header(res, "Cache-Control", strncmp(type, "text/html", 9) == 0
                                             ? "no-cache"
                                             : "public, max-age=3600");
out:
    if (fd >= 0)
        close(fd);
}
