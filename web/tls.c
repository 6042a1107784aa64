/* TLS material for HTTPS: the configured certificate and key, or a self-signed pair
 * generated into <data_dir>/tls/ on first start and reused afterwards. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <mbedtls/asn1write.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/x509_crt.h>
#include "web_int.h"

/* Rationale: an EC P-256 key (fast to generate, accepted everywhere) and a certificate
 * valid for ten years, named after the listen host (the machine's host name when the
 * server listens on every address), with subjectAltName entries for that name and for
 * localhost, so clients that pin or verify the certificate can match it. Both files are
 * written to a temporary name, synced and renamed, key first: a crash leaves either the
 * old state or a complete pair, and a lone key is simply replaced on the next start. */
#define VALID_DAYS 3650
#define PEM_MAX 4096

struct gen {
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_pk_context key;
    mbedtls_x509write_cert crt;
    mbedtls_mpi serial;
};

/* The name the certificate is issued to. */
static void cert_host(const char *listen_host, char *out, size_t len)
{
    if (listen_host[0] && strcmp(listen_host, "0.0.0.0") != 0 &&
        strcmp(listen_host, "::") != 0 && strcmp(listen_host, "*") != 0) {
        snprintf(out, len, "%s", listen_host);
        return;
    }
    if (gethostname(out, len) != 0 || !out[0])
        snprintf(out, len, "localhost");
    out[len - 1] = '\0';
}

/* Writes one GeneralName (tag 2 dNSName or 7 iPAddress) before *p; bytes or < 0. */
static int san_entry(unsigned char **p, unsigned char *start, int tag, const void *data,
                     size_t n)
{
    int len = 0, r;
    if ((r = mbedtls_asn1_write_raw_buffer(p, start, data, n)) < 0)
        return r;
    len += r;
    if ((r = mbedtls_asn1_write_len(p, start, n)) < 0)
        return r;
    len += r;
    if ((r = mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_CONTEXT_SPECIFIC | tag)) < 0)
        return r;
    return len + r;
}

/* host as an IP address or a DNS name; bytes or < 0. */
static int san_host(unsigned char **p, unsigned char *start, const char *host)
{
    unsigned char addr[16];
    if (inet_pton(AF_INET, host, addr) == 1)
        return san_entry(p, start, 7, addr, 4);
    if (inet_pton(AF_INET6, host, addr) == 1)
        return san_entry(p, start, 7, addr, 16);
    return san_entry(p, start, 2, host, strlen(host));
}

/* subjectAltName: host, localhost and 127.0.0.1 (each once). */
static int add_san(mbedtls_x509write_cert *crt, const char *host)
{
    const char *names[] = {host, "localhost", "127.0.0.1"};
    unsigned char buf[1024], *p = buf + sizeof buf;
    int len = 0, r;
    for (int i = 2; i >= 0; i--) { /* ASN.1 is written back to front */
        if (i > 0 && strcmp(names[i], host) == 0)
            continue;
        if ((r = san_host(&p, buf, names[i])) < 0)
            return r;
        len += r;
    }
    if ((r = mbedtls_asn1_write_len(&p, buf, (size_t)len)) < 0)
        return r;
    len += r;
    if ((r = mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONSTRUCTED |
                                                 MBEDTLS_ASN1_SEQUENCE)) < 0)
        return r;
    len += r;
    return mbedtls_x509write_crt_set_extension(
        crt, MBEDTLS_OID_SUBJECT_ALT_NAME, MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0,
        p, (size_t)len);
}

/* extendedKeyUsage: serverAuth. */
static int add_server_auth(mbedtls_x509write_cert *crt)
{
    static const unsigned char eku[] = {
        MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE, 10, MBEDTLS_ASN1_OID, 8,
        0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01}; /* 1.3.6.1.5.5.7.3.1 */
    return mbedtls_x509write_crt_set_extension(
        crt, MBEDTLS_OID_EXTENDED_KEY_USAGE, MBEDTLS_OID_SIZE(MBEDTLS_OID_EXTENDED_KEY_USAGE),
        0, eku, sizeof eku);
}

static void utc_stamp(time_t t, char out[16])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 16, "%Y%m%d%H%M%S", &tm);
}

/* Builds the key and certificate as PEM into key_pem and cert_pem; 0 or an mbedTLS
 * error code. */
static int generate(struct gen *g, const char *host, unsigned char *key_pem,
                    unsigned char *cert_pem)
{
    static const char pers[] = "depot-tls-selfsigned";
    char subject[400], not_before[16], not_after[16];
    unsigned char serial[16];
    time_t now = time(NULL);
    int r;
    if ((r = mbedtls_ctr_drbg_seed(&g->drbg, mbedtls_entropy_func, &g->entropy,
                                   (const unsigned char *)pers, sizeof pers - 1)) ||
        (r = mbedtls_pk_setup(&g->key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY))) ||
        (r = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(g->key),
                                 mbedtls_ctr_drbg_random, &g->drbg)) ||
        (r = mbedtls_pk_write_key_pem(&g->key, key_pem, PEM_MAX)) ||
        (r = mbedtls_ctr_drbg_random(&g->drbg, serial, sizeof serial)))
        return r;
    serial[0] &= 0x7f; /* a positive INTEGER */
    snprintf(subject, sizeof subject, "CN=%s,O=Depot", host);
    utc_stamp(now - 86400, not_before);
    utc_stamp(now + (time_t)VALID_DAYS * 86400, not_after);
    mbedtls_x509write_crt_set_version(&g->crt, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(&g->crt, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(&g->crt, &g->key);
    mbedtls_x509write_crt_set_issuer_key(&g->crt, &g->key);
    if ((r = mbedtls_mpi_read_binary(&g->serial, serial, sizeof serial)) ||
        (r = mbedtls_x509write_crt_set_serial(&g->crt, &g->serial)) ||
        (r = mbedtls_x509write_crt_set_subject_name(&g->crt, subject)) ||
        (r = mbedtls_x509write_crt_set_issuer_name(&g->crt, subject)) ||
        (r = mbedtls_x509write_crt_set_validity(&g->crt, not_before, not_after)) ||
        (r = mbedtls_x509write_crt_set_basic_constraints(&g->crt, 0, -1)) ||
        (r = mbedtls_x509write_crt_set_subject_key_identifier(&g->crt)) ||
        (r = mbedtls_x509write_crt_set_authority_key_identifier(&g->crt)) ||
        (r = mbedtls_x509write_crt_set_key_usage(&g->crt, MBEDTLS_X509_KU_DIGITAL_SIGNATURE)) ||
        (r = add_server_auth(&g->crt)) || (r = add_san(&g->crt, host)))
        return r;
    return mbedtls_x509write_crt_pem(&g->crt, cert_pem, PEM_MAX, mbedtls_ctr_drbg_random,
                                     &g->drbg);
}

/* Writes data to path through path.tmp (mode, synced, renamed). 0 or -1 with errno. */
static int write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0)
        return -1;
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            goto fail;
        p += n;
        len -= (size_t)n;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        fd = -1;
        goto fail;
    }
    if (rename(tmp, path) != 0)
        goto fail;
    return 0;
fail:
    {
        int saved = errno;
        if (fd >= 0)
            close(fd);
        unlink(tmp);
        errno = saved;
    }
    return -1;
}

static int sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int r = fsync(fd);
    close(fd);
    return r;
}

/* Generates and writes the pair; 0 or -1 with err. */
static int create_pair(const struct depot_web_config *cfg, const char *dir, const char *cert,
                       const char *key, char *err, size_t errlen)
{
    unsigned char key_pem[PEM_MAX], cert_pem[PEM_MAX];
    char host[256];
    struct gen g;
    int rc = -1;
    mbedtls_entropy_init(&g.entropy);
    mbedtls_ctr_drbg_init(&g.drbg);
    mbedtls_pk_init(&g.key);
    mbedtls_x509write_crt_init(&g.crt);
    mbedtls_mpi_init(&g.serial);
    cert_host(cfg->listen_host, host, sizeof host);
    int r = generate(&g, host, key_pem, cert_pem);
    if (r != 0) {
        snprintf(err, errlen, "web: cannot generate a TLS certificate (mbedTLS error -0x%04x)",
                 (unsigned)-r);
        goto out;
    }
    if (write_atomic(key, key_pem, strlen((char *)key_pem), 0600) != 0 ||
        write_atomic(cert, cert_pem, strlen((char *)cert_pem), 0644) != 0 ||
        sync_dir(dir) != 0) {
        snprintf(err, errlen, "web: cannot write the TLS certificate into %s: %s", dir,
                 strerror(errno));
        goto out;
    }
    rc = 0;
out:
    mbedtls_platform_zeroize(key_pem, sizeof key_pem);
    mbedtls_mpi_free(&g.serial);
    mbedtls_x509write_crt_free(&g.crt);
    mbedtls_pk_free(&g.key);
    mbedtls_ctr_drbg_free(&g.drbg);
    mbedtls_entropy_free(&g.entropy);
    return rc;
}

static int copy_path(char *out, size_t outlen, const char *path, char *err, size_t errlen)
{
    if (snprintf(out, outlen, "%s", path) >= (int)outlen) {
        snprintf(err, errlen, "web: TLS file path too long: %s", path);
        return -1;
    }
    return 0;
}

int web_tls_prepare(const struct depot_web_config *cfg, char *cert, size_t certlen,
                    char *key, size_t keylen, int *generated, char *err, size_t errlen)
{
    char dir[PATH_MAX], cert_path[PATH_MAX], key_path[PATH_MAX];
    *generated = 0;
    if (cfg->tls_cert[0] || cfg->tls_key[0]) {
        if (!cfg->tls_cert[0] || !cfg->tls_key[0]) {
            snprintf(err, errlen, "web: tls_cert and tls_key must be given together");
            return -1;
        }
        for (int i = 0; i < 2; i++) {
            const char *f = i ? cfg->tls_key : cfg->tls_cert;
            if (access(f, R_OK) != 0) {
                snprintf(err, errlen, "web: cannot read %s %s: %s", i ? "tls_key" : "tls_cert",
                         f, strerror(errno));
                return -1;
            }
        }
        return copy_path(cert, certlen, cfg->tls_cert, err, errlen) ||
                       copy_path(key, keylen, cfg->tls_key, err, errlen)
                   ? -1
                   : 0;
    }
    if (snprintf(dir, sizeof dir, "%s/tls", cfg->data_dir) >= (int)sizeof dir ||
        snprintf(cert_path, sizeof cert_path, "%s/cert.pem", dir) >= (int)sizeof cert_path ||
        snprintf(key_path, sizeof key_path, "%s/key.pem", dir) >= (int)sizeof key_path) {
        snprintf(err, errlen, "web: data dir path too long: %s", cfg->data_dir);
        return -1;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "web: cannot create %s: %s", dir, strerror(errno));
        return -1;
    }
    if (access(cert_path, R_OK) != 0 || access(key_path, R_OK) != 0) {
        if (create_pair(cfg, dir, cert_path, key_path, err, errlen) != 0)
            return -1;
        *generated = 1;
    }
    return copy_path(cert, certlen, cert_path, err, errlen) ||
                   copy_path(key, keylen, key_path, err, errlen)
               ? -1
               : 0;
}
