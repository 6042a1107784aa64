/* Unit tests of the station and scanner configuration store: adds are audited, every
 * field is checked with a reason, names are unique, scanners need a station, and lists
 * come back as stored; a scanner moves to another station, audited. */
#include "testutil.h"
#include "devices.h"

static struct test_db db;

static int count(const char *sql)
{
    sqlite3 *h;
    sqlite3_stmt *s;
    int n = -1;
    if (sqlite3_open(db.path, &h) != SQLITE_OK)
        return -1;
    if (sqlite3_prepare_v2(h, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        n = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(h);
    return n;
}

static void scanner(struct depot_scanner_conf *c, const char *name)
{
    depot_scanner_conf_default(c);
    snprintf(c->name, sizeof c->name, "%s", name);
    snprintf(c->station, sizeof c->station, "PACK-1");
    snprintf(c->port, sizeof c->port, "/dev/serial/by-id/usb-%s", name);
}

static void TEST_stations(void)
{
    int64_t id = 0;
    CU_ASSERT_EQUAL(depot_station_add(db.st, "PACK-1", "zebra-1", "test", &id), DEPOT_OK);
    CU_ASSERT(id > 0);
    CU_ASSERT_EQUAL(depot_station_add(db.st, "PACK-2", NULL, "test", NULL), DEPOT_OK);
    CU_ASSERT_EQUAL(depot_station_add(db.st, "PACK-1", NULL, "test", NULL), DEPOT_E_CONFLICT);
    CU_ASSERT_PTR_NOT_NULL(strstr(depot_store_errmsg(db.st), "already exists"));
    CU_ASSERT_EQUAL(depot_station_add(db.st, "", NULL, "test", NULL), DEPOT_E_INVALID);
    CU_ASSERT_EQUAL(depot_station_add(db.st, " padded", NULL, "test", NULL), DEPOT_E_INVALID);
    CU_ASSERT_EQUAL(depot_station_add(db.st, "S", "bad\nprinter", "test", NULL),
                    DEPOT_E_INVALID);
    CU_ASSERT_EQUAL(count("SELECT count(*) FROM audit WHERE action = 'station.add'"), 2);
}

static void TEST_scanner_fields_checked(void)
{
    struct depot_scanner_conf c;
    scanner(&c, "bad");
    c.baud = 10;
    CU_ASSERT_EQUAL(depot_scanner_add(db.st, &c, "test", NULL), DEPOT_E_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(depot_store_errmsg(db.st), "baud"));
    scanner(&c, "bad");
    c.parity = 'X';
    CU_ASSERT_EQUAL(depot_scanner_add(db.st, &c, "test", NULL), DEPOT_E_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(depot_store_errmsg(db.st), "parity"));
    scanner(&c, "bad");
    snprintf(c.suffix, sizeof c.suffix, "timeout:0");
    CU_ASSERT_EQUAL(depot_scanner_add(db.st, &c, "test", NULL), DEPOT_E_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(depot_store_errmsg(db.st), "suffix"));
    scanner(&c, "bad");
    snprintf(c.suffix, sizeof c.suffix, "timeout:10001");
    CU_ASSERT_EQUAL(depot_scanner_add(db.st, &c, "test", NULL), DEPOT_E_INVALID);
    scanner(&c, "bad");
    snprintf(c.flow, sizeof c.flow, "dtrdsr");
    CU_ASSERT_EQUAL(depot_scanner_add(db.st, &c, "test", NULL), DEPOT_E_INVALID);
    scanner(&c, "bad");
    snprintf(c.prefix, sizeof c.prefix, "\x02");
    CU_ASSERT_EQUAL(depot_scanner_add(db.st, &c, "test", NULL), DEPOT_E_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(depot_store_errmsg(db.st), "prefix"));
    scanner(&c, "bad");
    snprintf(c.port, sizeof c.port, "ttyUSB0");
    CU_ASSERT_EQUAL(depot_scanner_add(db.st, &c, "test", NULL), DEPOT_E_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(depot_store_errmsg(db.st), "port"));
    scanner(&c, "bad");
    snprintf(c.station, sizeof c.station, "NOPE");
    CU_ASSERT_EQUAL(depot_scanner_add(db.st, &c, "test", NULL), DEPOT_E_NOT_FOUND);
    CU_ASSERT_EQUAL(count("SELECT count(*) FROM scanners"), 0);
}

static void TEST_scanners_added_and_listed(void)
{
    struct depot_scanner_conf c, *list = NULL;
    size_t n = 0;
    int64_t id = 0;
    scanner(&c, "scan-1");
    CU_ASSERT_EQUAL(depot_scanner_add(db.st, &c, "test", &id), DEPOT_OK);
    CU_ASSERT(id > 0);
    CU_ASSERT_EQUAL(depot_scanner_add(db.st, &c, "test", NULL), DEPOT_E_CONFLICT);
    scanner(&c, "scan-2");
    c.baud = 115200;
    c.data_bits = 7;
    c.parity = 'E';
    c.stop_bits = 2;
    snprintf(c.flow, sizeof c.flow, "rtscts");
    snprintf(c.suffix, sizeof c.suffix, "timeout:40");
    snprintf(c.prefix, sizeof c.prefix, "S2:");
    c.enabled = 0;
    CU_ASSERT_EQUAL(depot_scanner_add(db.st, &c, "test", NULL), DEPOT_OK);

    CU_ASSERT_EQUAL(depot_scanner_list(db.st, 1, &list, &n), DEPOT_OK);
    CU_ASSERT_EQUAL(n, 1);
    CU_ASSERT_STRING_EQUAL(list[0].name, "scan-1");
    free(list);
    CU_ASSERT_EQUAL(depot_scanner_list(db.st, 0, &list, &n), DEPOT_OK);
    CU_ASSERT_EQUAL_FATAL(n, 2);
    CU_ASSERT_STRING_EQUAL(list[1].station, "PACK-1");
    CU_ASSERT_EQUAL(list[1].baud, 115200);
    CU_ASSERT_EQUAL(list[1].parity, 'E');
    CU_ASSERT_STRING_EQUAL(list[1].suffix, "timeout:40");
    CU_ASSERT_STRING_EQUAL(list[1].prefix, "S2:");
    CU_ASSERT_EQUAL(list[1].enabled, 0);
    cJSON *j = depot_scanner_conf_json(&list[1]);
    CU_ASSERT_STRING_EQUAL(cJSON_GetStringValue(cJSON_GetObjectItem(j, "serial")),
                           "115200,7,E,2,rtscts");
    cJSON_Delete(j);
    free(list);

    cJSON *stations = NULL;
    CU_ASSERT_EQUAL(depot_station_list_json(db.st, &stations), DEPOT_OK);
    char *text = cJSON_PrintUnformatted(stations);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "{\"id\":1,\"name\":\"PACK-1\",\"printer\":\"zebra-1\","
                                        "\"scanners\":[\"scan-1\",\"scan-2\"]}"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"name\":\"PACK-2\",\"printer\":null,\"scanners\":[]"));
    free(text);
    cJSON_Delete(stations);
    CU_ASSERT_EQUAL(count("SELECT count(*) FROM audit WHERE action = 'scanner.add'"), 2);
}

static void TEST_scanner_moved_to_another_station(void)
{
    /* scan-1 is on PACK-1 (added above). */
    CU_ASSERT_EQUAL(depot_scanner_set_station(db.st, "scan-1", "PACK-2", "user:sue"), DEPOT_OK);
    CU_ASSERT_EQUAL(count("SELECT count(*) FROM scanners c JOIN stations t ON t.id = c.station_id"
                          " WHERE c.name = 'scan-1' AND t.name = 'PACK-2'"), 1);
    CU_ASSERT_EQUAL(count("SELECT count(*) FROM audit WHERE action = 'scanner.pair'"
                          " AND actor = 'user:sue' AND entity = 'scanner:scan-1'"
                          " AND detail = '{\"from\":\"PACK-1\",\"station\":\"PACK-2\"}'"), 1);
    /* Where it already is: nothing written. */
    CU_ASSERT_EQUAL(depot_scanner_set_station(db.st, "scan-1", "PACK-2", "test"), DEPOT_OK);
    CU_ASSERT_EQUAL(count("SELECT count(*) FROM audit WHERE action = 'scanner.pair'"), 1);
    CU_ASSERT_EQUAL(depot_scanner_set_station(db.st, "scan-1", "PACK-9", "test"),
                    DEPOT_E_NOT_FOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(depot_store_errmsg(db.st), "station named PACK-9"));
    CU_ASSERT_EQUAL(depot_scanner_set_station(db.st, "nope", "PACK-1", "test"),
                    DEPOT_E_NOT_FOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(depot_store_errmsg(db.st), "scanner named nope"));
    CU_ASSERT_EQUAL(depot_scanner_set_station(db.st, "scan-1", "", "test"), DEPOT_E_INVALID);
    CU_ASSERT_EQUAL(depot_scanner_set_station(db.st, NULL, "PACK-1", "test"), DEPOT_E_INVALID);
    CU_ASSERT_EQUAL(count("SELECT count(*) FROM scanners c JOIN stations t ON t.id = c.station_id"
                          " WHERE c.name = 'scan-1' AND t.name = 'PACK-2'"), 1);
}

int main(void)
{
    static const struct test_case cases[] = {
        {"stations", TEST_stations},
        {"scanner_fields_checked", TEST_scanner_fields_checked},
        {"scanners_added_and_listed", TEST_scanners_added_and_listed},
        {"scanner_moved_to_another_station", TEST_scanner_moved_to_another_station},
        {0},
    };
    if (test_db_open(&db) != 0) {
        fprintf(stderr, "devices: cannot open a test store\n");
        return 1;
    }
    int rc = test_run("devices", cases);
    test_db_close(&db);
    return rc;
}
