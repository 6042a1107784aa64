/* Unit tests of the print queue in the store: enqueue checks and audit, order per
 * printer, the worker's state changes, cancel and re-print. */
#include "testutil.h"

static struct test_db t;

static void setup(void)
{
    CU_ASSERT_EQUAL_FATAL(test_db_open(&t), 0);
}

static int64_t enqueue(const char *printer, const char *zpl)
{
    int64_t id = 0;
    CU_ASSERT_EQUAL(depot_print_enqueue(t.st, printer, zpl, strlen(zpl), "test", &id),
                    DEPOT_OK);
    return id;
}

static void TEST_enqueue_commits_and_audits(void)
{
    setup();
    int64_t id = enqueue("zebra-1", "^XA^XZ");
    CU_ASSERT(id > 0);
    CU_ASSERT_EQUAL(test_sql_int(&t, "SELECT count(*) FROM print_jobs WHERE status = 'queued'"
                                     " AND payload = CAST('^XA^XZ' AS BLOB)"), 1);
    CU_ASSERT_EQUAL(test_sql_int(&t, "SELECT count(*) FROM audit WHERE action = 'print.enqueue'"
                                     " AND json_extract(detail, '$.printer') = 'zebra-1'"), 1);
    cJSON *list = NULL;
    CU_ASSERT_EQUAL_FATAL(depot_print_list_json(t.st, NULL, 10, &list), DEPOT_OK);
    CU_ASSERT_EQUAL(cJSON_GetArraySize(list), 1);
    cJSON *j = cJSON_GetArrayItem(list, 0);
    CU_ASSERT_EQUAL(cJSON_GetObjectItem(j, "bytes")->valueint, 6);
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(j, "status")->valuestring, "queued");
    cJSON_Delete(list);
    CU_ASSERT_TRUE(test_verify_ok(&t));
    test_db_close(&t);
}

static void TEST_enqueue_refuses_bad_input(void)
{
    static const char *const names[] = {"", "a b", "x;y", "ä",
        "p1234567890123456789012345678901234567890123456789012345678901234"};
    setup();
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        CU_ASSERT_EQUAL(depot_print_enqueue(t.st, names[i], "x", 1, "test", NULL),
                        DEPOT_E_INVALID);
    CU_ASSERT_EQUAL(depot_print_enqueue(t.st, "p", "x", 0, "test", NULL), DEPOT_E_INVALID);
    char *big = calloc(1, DEPOT_PRINT_PAYLOAD_MAX + 1);
    CU_ASSERT_EQUAL(depot_print_enqueue(t.st, "p", big, DEPOT_PRINT_PAYLOAD_MAX + 1, "test",
                                        NULL), DEPOT_E_INVALID);
    CU_ASSERT_EQUAL(depot_print_enqueue(t.st, "p", big, DEPOT_PRINT_PAYLOAD_MAX, "test",
                                        NULL), DEPOT_OK);
    free(big);
    CU_ASSERT_EQUAL(test_sql_int(&t, "SELECT count(*) FROM print_jobs"), 1);
    test_db_close(&t);
}

static void TEST_next_in_order_per_printer_with_retry(void)
{
    struct depot_print_job job;
    setup();
    int64_t a1 = enqueue("a", "A1"), b1 = enqueue("b", "B1"), a2 = enqueue("a", "A2");
    CU_ASSERT_EQUAL_FATAL(depot_print_next(t.st, "a", &job), DEPOT_OK);
    CU_ASSERT_EQUAL(job.id, a1);
    CU_ASSERT_EQUAL(job.len, 2);
    CU_ASSERT_EQUAL(memcmp(job.payload, "A1", 2), 0);
    CU_ASSERT_STRING_EQUAL(job.status, "queued");
    depot_print_job_free(&job);
    /* Paper out mid-send: back to queued, still first in line. */
    CU_ASSERT_EQUAL(depot_print_mark_sending(t.st, a1), DEPOT_OK);
    CU_ASSERT_EQUAL(depot_print_mark_failed(t.st, a1, "paper out", 0), DEPOT_OK);
    CU_ASSERT_EQUAL_FATAL(depot_print_next(t.st, "a", &job), DEPOT_OK);
    CU_ASSERT_EQUAL(job.id, a1);
    CU_ASSERT_EQUAL(job.attempts, 1);
    depot_print_job_free(&job);
    CU_ASSERT_EQUAL(test_sql_int(&t, "SELECT count(*) FROM print_jobs WHERE last_error ="
                                     " 'paper out'"), 1);
    /* A send in progress is reported as such (e.g. after a restart). */
    CU_ASSERT_EQUAL(depot_print_mark_sending(t.st, a1), DEPOT_OK);
    CU_ASSERT_EQUAL_FATAL(depot_print_next(t.st, "a", &job), DEPOT_OK);
    CU_ASSERT_STRING_EQUAL(job.status, "sending");
    CU_ASSERT_EQUAL(job.attempts, 2);
    depot_print_job_free(&job);
    CU_ASSERT_EQUAL(depot_print_mark_done(t.st, a1), DEPOT_OK);
    CU_ASSERT_EQUAL_FATAL(depot_print_next(t.st, "a", &job), DEPOT_OK);
    CU_ASSERT_EQUAL(job.id, a2);
    depot_print_job_free(&job);
    CU_ASSERT_EQUAL_FATAL(depot_print_next(t.st, "b", &job), DEPOT_OK);
    CU_ASSERT_EQUAL(job.id, b1);
    depot_print_job_free(&job);
    CU_ASSERT_EQUAL(depot_print_next(t.st, "c", &job), DEPOT_E_NOT_FOUND);
    CU_ASSERT_PTR_NULL(job.payload);
    test_db_close(&t);
}

static void TEST_state_changes_checked(void)
{
    setup();
    int64_t id = enqueue("p", "X");
    CU_ASSERT_EQUAL(depot_print_mark_done(t.st, id), DEPOT_E_STATE);
    CU_ASSERT_EQUAL(depot_print_mark_failed(t.st, id, "x", 0), DEPOT_E_STATE);
    CU_ASSERT_EQUAL(depot_print_mark_sending(t.st, 999), DEPOT_E_NOT_FOUND);
    CU_ASSERT_EQUAL(depot_print_mark_sending(t.st, id), DEPOT_OK);
    CU_ASSERT_EQUAL(depot_print_mark_failed(t.st, id, "", 1), DEPOT_E_INVALID);
    CU_ASSERT_EQUAL(depot_print_mark_failed(t.st, id, "head broken", 1), DEPOT_OK);
    CU_ASSERT_EQUAL(test_sql_int(&t, "SELECT count(*) FROM print_jobs WHERE status ="
                                     " 'failed'"), 1);
    struct depot_print_job job;
    CU_ASSERT_EQUAL(depot_print_next(t.st, "p", &job), DEPOT_E_NOT_FOUND);
    test_db_close(&t);
}

static void TEST_cancel_and_reprint(void)
{
    struct depot_print_job job;
    int64_t copy = 0;
    setup();
    int64_t q = enqueue("p", "QUEUED"), d = enqueue("p", "DONE");
    CU_ASSERT_EQUAL(depot_print_cancel(t.st, q, "test"), DEPOT_OK);
    CU_ASSERT_EQUAL(depot_print_cancel(t.st, q, "test"), DEPOT_E_STATE);
    CU_ASSERT_PTR_NOT_NULL(strstr(depot_store_errmsg(t.st), "cancelled"));
    CU_ASSERT_EQUAL(depot_print_cancel(t.st, 12345, "test"), DEPOT_E_NOT_FOUND);
    CU_ASSERT_EQUAL(depot_print_mark_sending(t.st, d), DEPOT_OK);
    CU_ASSERT_EQUAL(depot_print_cancel(t.st, d, "test"), DEPOT_E_STATE);
    CU_ASSERT_EQUAL(depot_print_mark_done(t.st, d), DEPOT_OK);
    /* Nothing is due; a re-print is a new job with the same payload. */
    CU_ASSERT_EQUAL(depot_print_next(t.st, "p", &job), DEPOT_E_NOT_FOUND);
    CU_ASSERT_EQUAL(depot_print_reprint(t.st, d, "test", &copy), DEPOT_OK);
    CU_ASSERT(copy > d);
    CU_ASSERT_EQUAL_FATAL(depot_print_next(t.st, "p", &job), DEPOT_OK);
    CU_ASSERT_EQUAL(job.id, copy);
    CU_ASSERT_EQUAL(job.attempts, 0);
    CU_ASSERT_EQUAL(job.len, 4);
    CU_ASSERT_EQUAL(memcmp(job.payload, "DONE", 4), 0);
    depot_print_job_free(&job);
    CU_ASSERT_EQUAL(depot_print_reprint(t.st, 999, "test", NULL), DEPOT_E_NOT_FOUND);
    CU_ASSERT_EQUAL(test_sql_int(&t, "SELECT count(*) FROM audit WHERE action IN"
                                     " ('print.cancel', 'print.reprint')"), 2);
    CU_ASSERT_TRUE(test_verify_ok(&t));
    test_db_close(&t);
}

int main(void)
{
    static const struct test_case cases[] = {
        {"enqueue_commits_and_audits", TEST_enqueue_commits_and_audits},
        {"enqueue_refuses_bad_input", TEST_enqueue_refuses_bad_input},
        {"next_in_order_per_printer_with_retry", TEST_next_in_order_per_printer_with_retry},
        {"state_changes_checked", TEST_state_changes_checked},
        {"cancel_and_reprint", TEST_cancel_and_reprint},
        {0},
    };
    return test_run("print_jobs", cases);
}
