/* Unit tests of the printers table (sqlite/printers.c): add and update with audit, field
 * checks, listing with queued counts, and the start-up recovery of half-sent jobs. */
#include "testutil.h"
#include "printers.h"

static struct test_db t;

static struct depot_printer_row row(const char *name, const char *backend,
                                    const char *address)
{
    struct depot_printer_row p = {.dpi = 203, .timeout_ms = 5000, .enabled = 1};
    snprintf(p.name, sizeof p.name, "%s", name);
    snprintf(p.backend, sizeof p.backend, "%s", backend);
    snprintf(p.address, sizeof p.address, "%s", address);
    snprintf(p.serial, sizeof p.serial, "9600,8,N,1,none");
    snprintf(p.stock, sizeof p.stock, "4x6");
    return p;
}

static void TEST_put_adds_then_updates_with_audit(void)
{
    CU_ASSERT_EQUAL_FATAL(test_db_open(&t), 0);
    struct depot_printer_row p = row("dock-1", "tcp", "10.0.0.5:9100"), got;
    int created = -1;
    CU_ASSERT_EQUAL(depot_printer_put(t.st, &p, "test", &created), DEPOT_OK);
    CU_ASSERT_EQUAL(created, 1);
    p.dpi = 300;
    p.enabled = 0;
    CU_ASSERT_EQUAL(depot_printer_put(t.st, &p, "test", &created), DEPOT_OK);
    CU_ASSERT_EQUAL(created, 0);
    CU_ASSERT_EQUAL_FATAL(depot_printer_get(t.st, "dock-1", &got), DEPOT_OK);
    CU_ASSERT_EQUAL(memcmp(&got, &p, sizeof p), 0);
    CU_ASSERT_EQUAL(depot_printer_get(t.st, "nope", &got), DEPOT_E_NOT_FOUND);
    CU_ASSERT_EQUAL(test_sql_int(&t, "SELECT count(*) FROM audit WHERE entity = 'printer:dock-1'"
                                     " AND action IN ('printer.add', 'printer.update')"), 2);
    CU_ASSERT_TRUE(test_verify_ok(&t));
    test_db_close(&t);
}

static void TEST_put_refuses_bad_fields(void)
{
    CU_ASSERT_EQUAL_FATAL(test_db_open(&t), 0);
    struct depot_printer_row bad[6];
    for (int i = 0; i < 6; i++)
        bad[i] = row("p", "tcp", "h:9100");
    snprintf(bad[0].name, sizeof bad[0].name, "a b");
    snprintf(bad[1].backend, sizeof bad[1].backend, "usb");
    bad[2].address[0] = '\0';
    bad[3].dpi = 600;
    snprintf(bad[4].stock, sizeof bad[4].stock, "3x5");
    bad[5].timeout_ms = 50;
    for (int i = 0; i < 6; i++)
        CU_ASSERT_EQUAL(depot_printer_put(t.st, &bad[i], "test", NULL), DEPOT_E_INVALID);
    CU_ASSERT_EQUAL(test_sql_int(&t, "SELECT count(*) FROM printers"), 0);
    test_db_close(&t);
}

static void TEST_list_counts_queued_jobs(void)
{
    CU_ASSERT_EQUAL_FATAL(test_db_open(&t), 0);
    struct depot_printer_row a = row("b-printer", "file", "/dev/usb/lp0");
    struct depot_printer_row b = row("a-printer", "serial", "/dev/ttyUSB0");
    struct depot_printer_row rows[4];
    int n = 0;
    CU_ASSERT_EQUAL(depot_printer_put(t.st, &a, "test", NULL), DEPOT_OK);
    CU_ASSERT_EQUAL(depot_printer_put(t.st, &b, "test", NULL), DEPOT_OK);
    CU_ASSERT_EQUAL(depot_print_enqueue(t.st, "b-printer", "^XA^XZ", 6, "test", NULL), DEPOT_OK);
    CU_ASSERT_EQUAL(depot_print_enqueue(t.st, "b-printer", "^XA^XZ", 6, "test", NULL), DEPOT_OK);
    CU_ASSERT_EQUAL(depot_printer_list(t.st, rows, 4, &n), DEPOT_OK);
    CU_ASSERT_EQUAL_FATAL(n, 2);
    CU_ASSERT_STRING_EQUAL(rows[0].name, "a-printer");
    CU_ASSERT_EQUAL(depot_printer_list(t.st, rows, 1, &n), DEPOT_OK);
    CU_ASSERT_EQUAL(n, 1);
    cJSON *doc = NULL;
    CU_ASSERT_EQUAL_FATAL(depot_printer_list_json(t.st, &doc), DEPOT_OK);
    CU_ASSERT_EQUAL(cJSON_GetObjectItem(cJSON_GetArrayItem(doc, 0), "queued")->valueint, 0);
    CU_ASSERT_EQUAL(cJSON_GetObjectItem(cJSON_GetArrayItem(doc, 1), "queued")->valueint, 2);
    cJSON_Delete(doc);
    test_db_close(&t);
}

static void TEST_recovery_fails_only_jobs_left_sending(void)
{
    CU_ASSERT_EQUAL_FATAL(test_db_open(&t), 0);
    int64_t ids[3];
    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(depot_print_enqueue(t.st, "p", "^XA^XZ", 6, "test", &ids[i]), DEPOT_OK);
    CU_ASSERT_EQUAL(depot_print_mark_sending(t.st, ids[0]), DEPOT_OK);
    CU_ASSERT_EQUAL(depot_print_mark_done(t.st, ids[0]), DEPOT_OK);
    CU_ASSERT_EQUAL(depot_print_mark_sending(t.st, ids[1]), DEPOT_OK); /* then a crash */
    int n = -1;
    CU_ASSERT_EQUAL(depot_print_recover_interrupted(t.st, &n), DEPOT_OK);
    CU_ASSERT_EQUAL(n, 1);
    CU_ASSERT_EQUAL(test_sql_int(&t, "SELECT count(*) FROM print_jobs WHERE status = 'failed'"
                                     " AND last_error LIKE 'interrupted by a depotd restart%'"),
                    1);
    CU_ASSERT_EQUAL(test_sql_int(&t, "SELECT count(*) FROM print_jobs WHERE status = 'queued'"),
                    1);
    CU_ASSERT_EQUAL(test_sql_int(&t, "SELECT count(*) FROM audit"
                                     " WHERE action = 'print.interrupted'"), 1);
    /* The next job due is the queued one; the failed one waits for a person. */
    struct depot_print_job job;
    CU_ASSERT_EQUAL_FATAL(depot_print_next(t.st, "p", &job), DEPOT_OK);
    CU_ASSERT_EQUAL(job.id, ids[2]);
    depot_print_job_free(&job);
    CU_ASSERT_EQUAL(depot_print_recover_interrupted(t.st, &n), DEPOT_OK);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_TRUE(test_verify_ok(&t));
    test_db_close(&t);
}

int main(void)
{
    static const struct test_case cases[] = {
        {"put_adds_then_updates_with_audit", TEST_put_adds_then_updates_with_audit},
        {"put_refuses_bad_fields", TEST_put_refuses_bad_fields},
        {"list_counts_queued_jobs", TEST_list_counts_queued_jobs},
        {"recovery_fails_only_jobs_left_sending", TEST_recovery_fails_only_jobs_left_sending},
        {0},
    };
    return test_run("printers", cases);
}
