/* The master key: read from a systemd credential or DEPOT_MASTER_KEY_FILE, or, in demo/dev
 * mode only, generated once into the data dir. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <mbedtls/platform_util.h>
#include "master_key.h"
#include "vault.h"

#define HEX_LEN (2 * DEPOT_MASTER_KEY_LEN)

static void set_msg(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_msg(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    if (!buf || len == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

static int hex_value(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* 32 raw bytes, or 64 hex digits with an optional trailing newline; 0 on success. */
static int parse_key(const uint8_t *buf, size_t n, uint8_t key[DEPOT_MASTER_KEY_LEN])
{
    if (n == DEPOT_MASTER_KEY_LEN) {
        memcpy(key, buf, DEPOT_MASTER_KEY_LEN);
        return 0;
    }
    if (n != HEX_LEN && !(n == HEX_LEN + 1 && buf[HEX_LEN] == '\n'))
        return -1;
    for (size_t i = 0; i < DEPOT_MASTER_KEY_LEN; i++) {
        int hi = hex_value(buf[2 * i]), lo = hex_value(buf[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        key[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

/* Reads the key file at path. DEPOT_E_NOT_FOUND (without a message) only if missing_ok and
 * the file does not exist. */
static depot_err read_key_file(const char *path, int missing_ok,
                               uint8_t key[DEPOT_MASTER_KEY_LEN], char *err, size_t errlen)
{
    uint8_t buf[HEX_LEN + 2]; /* one byte more than the longest valid file */
    size_t n = 0;
    struct stat sb;
    depot_err e = DEPOT_OK;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

    if (fd < 0) {
        if (errno == ENOENT && missing_ok)
            return DEPOT_E_NOT_FOUND;
        set_msg(err, errlen, "master key file %s: %s", path, strerror(errno));
        return DEPOT_E_IO;
    }
    if (fstat(fd, &sb) != 0) {
        set_msg(err, errlen, "master key file %s: %s", path, strerror(errno));
        e = DEPOT_E_IO;
    } else if (!S_ISREG(sb.st_mode)) {
        set_msg(err, errlen, "master key file %s: not a regular file", path);
        e = DEPOT_E_INVALID;
    } else if (sb.st_mode & S_IRWXO) {
        set_msg(err, errlen, "master key file %s: accessible by other users (mode %04o); "
                "run chmod o-rwx on it", path, (unsigned)(sb.st_mode & 07777));
        e = DEPOT_E_INVALID;
    }
    while (e == DEPOT_OK && n < sizeof buf) {
        ssize_t r = read(fd, buf + n, sizeof buf - n);
        if (r == 0)
            break;
        if (r < 0 && errno != EINTR) {
            set_msg(err, errlen, "master key file %s: %s", path, strerror(errno));
            e = DEPOT_E_IO;
        } else if (r > 0) {
            n += (size_t)r;
        }
    }
    close(fd);
    if (e == DEPOT_OK && parse_key(buf, n, key) != 0) {
        set_msg(err, errlen, "master key file %s: expected 32 bytes or 64 hex characters",
                path);
        e = DEPOT_E_INVALID;
    }
    mbedtls_platform_zeroize(buf, sizeof buf);
    return e;
}

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Rationale: the new key is written to a private temporary file (mkostemp: O_CREAT|O_EXCL,
 * mode 0600), fsync'd, then published with link(2), which like O_EXCL never replaces an
 * existing file — but a second process starting at the same moment can never see a
 * half-written key. DEPOT_E_CONFLICT if someone else published a key first. */
static depot_err generate_key_file(const char *data_dir, const char *path,
                                   uint8_t key[DEPOT_MASTER_KEY_LEN], char *err,
                                   size_t errlen)
{
    static const char digits[] = "0123456789abcdef";
    char tmp[PATH_MAX], hex[HEX_LEN + 1];
    depot_err e;
    int fd, dfd;

    if ((size_t)snprintf(tmp, sizeof tmp, "%s/.master.key.XXXXXX", data_dir) >= sizeof tmp) {
        set_msg(err, errlen, "data dir path too long: %s", data_dir);
        return DEPOT_E_INVALID;
    }
    if ((e = depot_random_bytes(key, DEPOT_MASTER_KEY_LEN)) != DEPOT_OK) {
        set_msg(err, errlen, "cannot read random bytes for a new master key");
        return e;
    }
    for (size_t i = 0; i < DEPOT_MASTER_KEY_LEN; i++) {
        hex[2 * i] = digits[key[i] >> 4];
        hex[2 * i + 1] = digits[key[i] & 0x0f];
    }
    hex[HEX_LEN] = '\n';
    if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
        set_msg(err, errlen, "cannot create a master key in %s: %s", data_dir,
                strerror(errno));
        e = DEPOT_E_IO;
        goto out;
    }
    if (write_all(fd, hex, sizeof hex) != 0 || fsync(fd) != 0) {
        set_msg(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        e = DEPOT_E_IO;
    }
    if (close(fd) != 0 && e == DEPOT_OK) {
        set_msg(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        e = DEPOT_E_IO;
    }
    if (e == DEPOT_OK && link(tmp, path) != 0) {
        if (errno == EEXIST) {
            e = DEPOT_E_CONFLICT;
        } else {
            set_msg(err, errlen, "cannot create %s: %s", path, strerror(errno));
            e = DEPOT_E_IO;
        }
    }
    unlink(tmp);
    /* Make the new directory entry durable too. */
    if (e == DEPOT_OK && (dfd = open(data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
        if (fsync(dfd) != 0) {
            set_msg(err, errlen, "cannot sync %s: %s", data_dir, strerror(errno));
            e = DEPOT_E_IO;
        }
        close(dfd);
    }
out:
    mbedtls_platform_zeroize(hex, sizeof hex);
    return e;
}

depot_err depot_master_key_load(const char *data_dir, int allow_generate,
                                uint8_t key[DEPOT_MASTER_KEY_LEN], char *source,
                                size_t sourcelen, char *err, size_t errlen)
{
    const char *cred_dir = getenv("CREDENTIALS_DIRECTORY");
    const char *file = getenv(DEPOT_MASTER_KEY_ENV);
    char path[PATH_MAX];
    depot_err e;

    set_msg(source, sourcelen, "%s", "");
    set_msg(err, errlen, "%s", "");
    if (cred_dir && *cred_dir) {
        if ((size_t)snprintf(path, sizeof path, "%s/" DEPOT_MASTER_KEY_CREDENTIAL,
                             cred_dir) >= sizeof path) {
            set_msg(err, errlen, "CREDENTIALS_DIRECTORY too long: %s", cred_dir);
            e = DEPOT_E_INVALID;
            goto fail;
        }
        e = read_key_file(path, 1, key, err, errlen);
        if (e == DEPOT_OK) {
            set_msg(source, sourcelen, "systemd credential %s", path);
            return DEPOT_OK;
        }
        if (e != DEPOT_E_NOT_FOUND)
            goto fail;
    }
    if (file && *file) {
        if ((e = read_key_file(file, 0, key, err, errlen)) != DEPOT_OK)
            goto fail;
        set_msg(source, sourcelen, DEPOT_MASTER_KEY_ENV " %s", file);
        return DEPOT_OK;
    }
    if (!allow_generate || !data_dir) {
        set_msg(err, errlen, "no master key: provide the systemd credential "
                DEPOT_MASTER_KEY_CREDENTIAL " or set " DEPOT_MASTER_KEY_ENV
                " (a development key is generated only in demo mode)");
        e = DEPOT_E_NOT_FOUND;
        goto fail;
    }
    if ((size_t)snprintf(path, sizeof path, "%s/" DEPOT_MASTER_KEY_DEV_FILE, data_dir) >=
        sizeof path) {
        set_msg(err, errlen, "data dir path too long: %s", data_dir);
        e = DEPOT_E_INVALID;
        goto fail;
    }
    e = read_key_file(path, 1, key, err, errlen);
    if (e == DEPOT_E_NOT_FOUND) {
        e = generate_key_file(data_dir, path, key, err, errlen);
        if (e == DEPOT_OK) {
            set_msg(source, sourcelen, DEPOT_MASTER_KEY_SOURCE_DEV "%s (generated now)",
                    path);
            return DEPOT_OK;
        }
        if (e == DEPOT_E_CONFLICT) /* another process generated it a moment ago */
            e = read_key_file(path, 0, key, err, errlen);
    }
    if (e == DEPOT_OK) {
        set_msg(source, sourcelen, DEPOT_MASTER_KEY_SOURCE_DEV "%s", path);
        return DEPOT_OK;
    }
fail:
    mbedtls_platform_zeroize(key, DEPOT_MASTER_KEY_LEN);
    return e;
}
