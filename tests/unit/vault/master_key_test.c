/* Master key tests: systemd credential, DEPOT_MASTER_KEY_FILE (raw and hex), precedence,
 * rejected files, and the demo/dev key generated once into the data dir. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include "testutil.h"
#include "master_key.h"

static char dir[64];
static uint8_t key[DEPOT_MASTER_KEY_LEN];
static char source[512], err[512];

static const uint8_t raw_key[DEPOT_MASTER_KEY_LEN] = "0123456789abcdefghijklmnopqrstu";
static const char hex_key[] =
    "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF";
static const uint8_t hex_key_bytes[DEPOT_MASTER_KEY_LEN] = {
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee,
    0xff, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd,
    0xee, 0xff,
};

/* Every test starts from a fresh empty dir and no key in the environment. */
static void start(void)
{
    unsetenv("CREDENTIALS_DIRECTORY");
    unsetenv("DEPOT_MASTER_KEY_FILE");
    snprintf(dir, sizeof dir, "/tmp/depot-mk-XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    memset(key, 0xa5, sizeof key);
    source[0] = err[0] = '\0';
}

static void finish(void)
{
    unsetenv("CREDENTIALS_DIRECTORY");
    unsetenv("DEPOT_MASTER_KEY_FILE");
    nftw(dir, test_rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* Writes dir/name (creating dir/sub first if name has one) with the given mode. */
static void write_file(const char *name, const void *data, size_t n, mode_t mode, char *path,
                       size_t pathlen)
{
    snprintf(path, pathlen, "%s/%s", dir, name);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    mkdir(path, 0700);
    *slash = '/';
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_EQUAL(write(fd, data, n), (ssize_t)n);
    CU_ASSERT_EQUAL(fchmod(fd, mode), 0);
    close(fd);
}

static depot_err load(int allow_generate)
{
    return depot_master_key_load(dir, allow_generate, key, source, sizeof source, err,
                                 sizeof err);
}

static int key_is_zero(void)
{
    static const uint8_t zero[DEPOT_MASTER_KEY_LEN];
    return memcmp(key, zero, sizeof key) == 0;
}

static void TEST_key_from_systemd_credential(void)
{
    char path[256], cred_dir[128];
    start();
    write_file("creds/depot-master-key", raw_key, sizeof raw_key, 0400, path, sizeof path);
    snprintf(cred_dir, sizeof cred_dir, "%s/creds", dir);
    setenv("CREDENTIALS_DIRECTORY", cred_dir, 1);
    CU_ASSERT_EQUAL(load(0), DEPOT_OK);
    CU_ASSERT_EQUAL(memcmp(key, raw_key, sizeof key), 0);
    CU_ASSERT_EQUAL(strncmp(source, "systemd credential ", 19), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(source, path));
    finish();
}

static void TEST_key_from_env_file_raw_and_hex(void)
{
    char path[256], text[80];
    start();
    write_file("raw.key", raw_key, sizeof raw_key, 0600, path, sizeof path);
    setenv("DEPOT_MASTER_KEY_FILE", path, 1);
    CU_ASSERT_EQUAL(load(0), DEPOT_OK);
    CU_ASSERT_EQUAL(memcmp(key, raw_key, sizeof key), 0);
    CU_ASSERT_EQUAL(strncmp(source, "DEPOT_MASTER_KEY_FILE ", 22), 0);

    /* 64 hex characters (either case), with or without a trailing newline. */
    write_file("hex.key", hex_key, 64, 0640, path, sizeof path);
    setenv("DEPOT_MASTER_KEY_FILE", path, 1);
    CU_ASSERT_EQUAL(load(0), DEPOT_OK);
    CU_ASSERT_EQUAL(memcmp(key, hex_key_bytes, sizeof key), 0);
    snprintf(text, sizeof text, "%s\n", hex_key);
    write_file("hexnl.key", text, 65, 0400, path, sizeof path);
    setenv("DEPOT_MASTER_KEY_FILE", path, 1);
    memset(key, 0, sizeof key);
    CU_ASSERT_EQUAL(load(0), DEPOT_OK);
    CU_ASSERT_EQUAL(memcmp(key, hex_key_bytes, sizeof key), 0);
    /* Nothing is generated while a key is configured, even when allowed. */
    CU_ASSERT_EQUAL(load(1), DEPOT_OK);
    CU_ASSERT_EQUAL(strncmp(source, "DEPOT_MASTER_KEY_FILE ", 22), 0);
    snprintf(path, sizeof path, "%s/master.key", dir);
    CU_ASSERT_EQUAL(access(path, F_OK), -1);
    finish();
}

static void TEST_credential_beats_env_file(void)
{
    char path[256], cred_dir[128];
    start();
    write_file("creds/depot-master-key", raw_key, sizeof raw_key, 0400, path, sizeof path);
    snprintf(cred_dir, sizeof cred_dir, "%s/creds", dir);
    setenv("CREDENTIALS_DIRECTORY", cred_dir, 1);
    write_file("env.key", hex_key, 64, 0600, path, sizeof path);
    setenv("DEPOT_MASTER_KEY_FILE", path, 1);
    CU_ASSERT_EQUAL(load(0), DEPOT_OK);
    CU_ASSERT_EQUAL(memcmp(key, raw_key, sizeof key), 0);
    CU_ASSERT_EQUAL(strncmp(source, "systemd credential ", 19), 0);

    /* A credentials dir without our credential (the unit has others) falls through. */
    snprintf(cred_dir, sizeof cred_dir, "%s/othercreds", dir);
    mkdir(cred_dir, 0700);
    setenv("CREDENTIALS_DIRECTORY", cred_dir, 1);
    CU_ASSERT_EQUAL(load(0), DEPOT_OK);
    CU_ASSERT_EQUAL(memcmp(key, hex_key_bytes, sizeof key), 0);
    CU_ASSERT_EQUAL(strncmp(source, "DEPOT_MASTER_KEY_FILE ", 22), 0);
    finish();
}

static void expect_rejected(const char *name, const void *data, size_t n, mode_t mode,
                            depot_err want, const char *msg)
{
    char path[256];
    write_file(name, data, n, mode, path, sizeof path);
    setenv("DEPOT_MASTER_KEY_FILE", path, 1);
    memset(key, 0xa5, sizeof key);
    CU_ASSERT_EQUAL(load(1), want);
    CU_ASSERT_TRUE(key_is_zero());
    CU_ASSERT_PTR_NOT_NULL(strstr(err, path));
    if (!strstr(err, msg))
        fprintf(stderr, "\n%s: unexpected error: %s\n", name, err);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, msg));
    CU_ASSERT_STRING_EQUAL(source, "");
}

static void TEST_bad_key_files_are_rejected(void)
{
    static const char expected[] = "expected 32 bytes or 64 hex characters";
    char text[80], path[256], cred_dir[128];
    start();
    expect_rejected("empty", "", 0, 0600, DEPOT_E_INVALID, expected);
    expect_rejected("short", raw_key, 31, 0600, DEPOT_E_INVALID, expected);
    snprintf(text, sizeof text, "%.32s\n", (const char *)raw_key);
    expect_rejected("raw-newline", text, 33, 0600, DEPOT_E_INVALID, expected);
    expect_rejected("hex-short", hex_key, 63, 0600, DEPOT_E_INVALID, expected);
    snprintf(text, sizeof text, "%s0", hex_key);
    expect_rejected("hex-long", text, 65, 0600, DEPOT_E_INVALID, expected);
    snprintf(text, sizeof text, "%s\n\n", hex_key);
    expect_rejected("hex-two-newlines", text, 66, 0600, DEPOT_E_INVALID, expected);
    snprintf(text, sizeof text, "%s", hex_key);
    text[10] = 'g';
    expect_rejected("not-hex", text, 64, 0600, DEPOT_E_INVALID, expected);
    expect_rejected("world-readable", raw_key, 32, 0644, DEPOT_E_INVALID, "other users");

    snprintf(path, sizeof path, "%s/missing.key", dir);
    setenv("DEPOT_MASTER_KEY_FILE", path, 1);
    CU_ASSERT_EQUAL(load(1), DEPOT_E_IO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, path));
    setenv("DEPOT_MASTER_KEY_FILE", dir, 1);
    CU_ASSERT_EQUAL(load(1), DEPOT_E_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "not a regular file"));

    /* A bad credential is an error, not a reason to use the next source. */
    write_file("good.key", raw_key, 32, 0600, path, sizeof path);
    setenv("DEPOT_MASTER_KEY_FILE", path, 1);
    write_file("creds/depot-master-key", raw_key, 31, 0400, path, sizeof path);
    snprintf(cred_dir, sizeof cred_dir, "%s/creds", dir);
    setenv("CREDENTIALS_DIRECTORY", cred_dir, 1);
    CU_ASSERT_EQUAL(load(1), DEPOT_E_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, expected));
    /* And nothing was generated along the way. */
    snprintf(path, sizeof path, "%s/master.key", dir);
    CU_ASSERT_EQUAL(access(path, F_OK), -1);
    finish();
}

static void TEST_dev_key_is_generated_once_with_mode_0600(void)
{
    char path[256];
    uint8_t first[DEPOT_MASTER_KEY_LEN];
    struct stat sb;
    start();
    CU_ASSERT_EQUAL_FATAL(load(1), DEPOT_OK);
    CU_ASSERT_FALSE(key_is_zero());
    memcpy(first, key, sizeof first);
    snprintf(path, sizeof path, "%s/master.key", dir);
    CU_ASSERT_EQUAL(strncmp(source, DEPOT_MASTER_KEY_SOURCE_DEV,
                            strlen(DEPOT_MASTER_KEY_SOURCE_DEV)), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(source, path));
    CU_ASSERT_PTR_NOT_NULL(strstr(source, "generated now"));
    CU_ASSERT_EQUAL_FATAL(stat(path, &sb), 0);
    CU_ASSERT_TRUE(S_ISREG(sb.st_mode));
    CU_ASSERT_EQUAL(sb.st_mode & 07777, 0600);
    CU_ASSERT_EQUAL(sb.st_size, 65); /* 64 hex characters and a newline */

    /* No temporary file is left behind. */
    DIR *d = opendir(dir);
    struct dirent *ent;
    int entries = 0;
    while ((ent = readdir(d)))
        entries += strcmp(ent->d_name, ".") && strcmp(ent->d_name, "..");
    closedir(d);
    CU_ASSERT_EQUAL(entries, 1);

    /* The second load reads the same key and says it was not generated. */
    memset(key, 0, sizeof key);
    CU_ASSERT_EQUAL(load(1), DEPOT_OK);
    CU_ASSERT_EQUAL(memcmp(key, first, sizeof key), 0);
    CU_ASSERT_PTR_NULL(strstr(source, "generated"));
    CU_ASSERT_EQUAL(strncmp(source, DEPOT_MASTER_KEY_SOURCE_DEV,
                            strlen(DEPOT_MASTER_KEY_SOURCE_DEV)), 0);

    /* The generated file is a valid DEPOT_MASTER_KEY_FILE for production use too. */
    setenv("DEPOT_MASTER_KEY_FILE", path, 1);
    memset(key, 0, sizeof key);
    CU_ASSERT_EQUAL(load(0), DEPOT_OK);
    CU_ASSERT_EQUAL(memcmp(key, first, sizeof key), 0);
    finish();
}

static void TEST_no_generation_when_not_allowed(void)
{
    char path[256];
    start();
    CU_ASSERT_EQUAL(load(0), DEPOT_E_NOT_FOUND);
    CU_ASSERT_TRUE(key_is_zero());
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "DEPOT_MASTER_KEY_FILE"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "depot-master-key"));
    CU_ASSERT_STRING_EQUAL(source, "");
    snprintf(path, sizeof path, "%s/master.key", dir);
    CU_ASSERT_EQUAL(access(path, F_OK), -1);
    /* An existing dev key is not used outside demo/dev either. */
    write_file("master.key", raw_key, 32, 0600, path, sizeof path);
    CU_ASSERT_EQUAL(load(0), DEPOT_E_NOT_FOUND);
    /* Empty variables count as unset. */
    setenv("CREDENTIALS_DIRECTORY", "", 1);
    setenv("DEPOT_MASTER_KEY_FILE", "", 1);
    CU_ASSERT_EQUAL(load(0), DEPOT_E_NOT_FOUND);
    finish();
}

int main(void)
{
    static const struct test_case cases[] = {
        {"key from systemd credential", TEST_key_from_systemd_credential},
        {"key from env file, raw and hex", TEST_key_from_env_file_raw_and_hex},
        {"credential beats env file", TEST_credential_beats_env_file},
        {"bad key files are rejected", TEST_bad_key_files_are_rejected},
        {"dev key generated once, mode 0600", TEST_dev_key_is_generated_once_with_mode_0600},
        {"no generation when not allowed", TEST_no_generation_when_not_allowed},
        {NULL, NULL},
    };
    return test_run("master_key", cases);
}
