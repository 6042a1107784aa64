/* Static file path resolution: index for directories, files and symlinks inside the root
 * allowed; "..", encoded leftovers, backslashes, hidden segments, symlinks leading out
 * (also into a sibling whose name starts like the root) and missing files refused. */
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include "testutil.h"
#include "web_int.h"

static char base[64];
static char root[PATH_MAX];

static void touch(const char *rel)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/%s", base, rel);
    FILE *f = fopen(p, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("x", f);
    fclose(f);
}

static void link_to(const char *target, const char *rel)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/%s", base, rel);
    CU_ASSERT_EQUAL_FATAL(symlink(target, p), 0);
}

static void setup(void)
{
    char p[PATH_MAX];
    snprintf(base, sizeof base, "/tmp/depot-static-XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(base));
    snprintf(p, sizeof p, "%s/ui", base);
    mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/ui/sub", base);
    mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/ui2", base);
    mkdir(p, 0700);
    touch("ui/index.html");
    touch("ui/app.js");
    touch("ui/a..b.js");
    touch("ui/sub/index.html");
    touch("ui/sub/style.css");
    touch("ui/.env");
    touch("ui2/secret.txt");
    touch("secret.txt");
    link_to("/etc/passwd", "ui/passwd");
    link_to("../secret.txt", "ui/up.txt");
    link_to("../ui2/secret.txt", "ui/sibling.txt");
    link_to("app.js", "ui/alias.js");
    snprintf(p, sizeof p, "%s/ui", base);
    CU_ASSERT_PTR_NOT_NULL_FATAL(realpath(p, root));
}

static void teardown(void)
{
    nftw(base, test_rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* Resolves path and checks it lands on root + want (NULL: refused). */
static void expect(const char *path, const char *want)
{
    char out[PATH_MAX], full[PATH_MAX];
    int r = web_static_resolve(root, path, out, sizeof out);
    if (!want) {
        CU_ASSERT_EQUAL(r, -1);
        if (r != -1)
            fprintf(stderr, "\n  %s was not refused (%s)\n", path, out);
        return;
    }
    snprintf(full, sizeof full, "%s%s", root, want);
    CU_ASSERT_EQUAL(r, 0);
    if (r != 0) {
        fprintf(stderr, "\n  %s was refused\n", path);
        return;
    }
    CU_ASSERT_STRING_EQUAL(out, full);
}

static void TEST_files_inside_the_root_resolve(void)
{
    setup();
    expect("/", "/index.html");
    expect("/app.js", "/app.js");
    expect("/sub/", "/sub/index.html");
    expect("/sub/style.css", "/sub/style.css");
    expect("/alias.js", "/app.js"); /* a symlink that stays inside */
    teardown();
}

static void TEST_traversal_and_odd_paths_are_refused(void)
{
    setup();
    expect("/../secret.txt", NULL);
    expect("/sub/../../secret.txt", NULL);
    expect("/..", NULL);
    expect("/a..b.js", NULL);           /* any "..": strict on purpose */
    expect("/%2e%2e/secret.txt", NULL); /* a % left after one decoding */
    expect("/%252e%252e/", NULL);
    expect("/sub\\..\\..\\secret.txt", NULL);
    expect("/.env", NULL);
    expect("/./app.js", NULL);
    expect("//etc/passwd", NULL);
    expect("/app.js\n", NULL);
    expect("", NULL);
    expect("app.js", NULL);
    teardown();
}

static void TEST_symlinks_leading_out_are_refused(void)
{
    setup();
    expect("/passwd", NULL);
    expect("/up.txt", NULL);
    expect("/sibling.txt", NULL); /* "<base>/ui2" starts with "<base>/ui" */
    teardown();
}

static void TEST_missing_files_are_refused(void)
{
    setup();
    expect("/missing.js", NULL);
    expect("/sub/missing/", NULL);
    char out[8];
    CU_ASSERT_EQUAL(web_static_resolve(root, "/app.js", out, sizeof out), -1); /* too long */
    CU_ASSERT_EQUAL(web_static_resolve("", "/app.js", out, sizeof out), -1);
    teardown();
}

int main(void)
{
    static const struct test_case cases[] = {
        {"files_inside_the_root_resolve", TEST_files_inside_the_root_resolve},
        {"traversal_and_odd_paths_are_refused", TEST_traversal_and_odd_paths_are_refused},
        {"symlinks_leading_out_are_refused", TEST_symlinks_leading_out_are_refused},
        {"missing_files_are_refused", TEST_missing_files_are_refused},
        {NULL, NULL},
    };
    return test_run("static_path", cases);
}
