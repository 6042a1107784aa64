/* Unit tests of serial line settings: the "9600,8,N,1,none" form, defaults for omitted
 * fields, and the reasons given for bad values. */
#include "testutil.h"
#include "serial_port.h"

static void TEST_full_and_partial_forms(void)
{
    struct depot_serial_config c;
    char err[160], buf[DEPOT_SERIAL_CONFIG_TEXT_MAX];
    depot_serial_config_default(&c);
    CU_ASSERT_STRING_EQUAL(depot_serial_config_format(&c, buf, sizeof buf),
                           "9600,8,N,1,none");
    CU_ASSERT_EQUAL(depot_serial_config_parse("115200,7,e,2,RTSCTS", &c, err, sizeof err), 0);
    CU_ASSERT_EQUAL(c.baud, 115200);
    CU_ASSERT_EQUAL(c.data_bits, 7);
    CU_ASSERT_EQUAL(c.parity, DEPOT_SERIAL_PARITY_EVEN);
    CU_ASSERT_EQUAL(c.stop_bits, 2);
    CU_ASSERT_EQUAL(c.flow, DEPOT_SERIAL_FLOW_RTSCTS);
    CU_ASSERT_STRING_EQUAL(depot_serial_config_format(&c, buf, sizeof buf),
                           "115200,7,E,2,rtscts");
    CU_ASSERT_EQUAL(depot_serial_config_parse("19200", &c, err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(depot_serial_config_format(&c, buf, sizeof buf),
                           "19200,8,N,1,none");
    CU_ASSERT_EQUAL(depot_serial_config_parse("4800,8,odd,1,xonxoff", &c, err, sizeof err),
                    0);
    CU_ASSERT_STRING_EQUAL(depot_serial_config_format(&c, buf, sizeof buf),
                           "4800,8,O,1,xonxoff");
}

static void TEST_bad_values_refused_with_reason(void)
{
    static const struct {
        const char *text;
        const char *reason;
    } cases[] = {
        {"", "empty"},
        {"0", "baud 0"},
        {"-9600", "invalid baud"},
        {"9600x", "invalid baud"},
        {"99999999999", "invalid baud"},
        {"9600,9", "data bits 9"},
        {"9600,8,X", "invalid parity"},
        {"9600,8,N,3", "stop bits"},
        {"9600,8,N,1,dtrdsr", "invalid flow"},
        {"9600,8,N,1,none,extra", "too many"},
        {"9600,,N", "invalid data bits"},
    };
    struct depot_serial_config c;
    char err[160];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        depot_serial_config_default(&c);
        CU_ASSERT_EQUAL(depot_serial_config_parse(cases[i].text, &c, err, sizeof err), -1);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, cases[i].reason));
        CU_ASSERT_EQUAL(c.baud, 9600); /* unchanged on failure */
    }
}

static void TEST_open_missing_path_is_absent(void)
{
    struct depot_serial_config c;
    struct depot_serial_port p;
    char err[256];
    depot_serial_config_default(&c);
    CU_ASSERT_EQUAL(depot_serial_open("/dev/serial/by-id/depot-no-such-scanner", &c,
                                      DEPOT_SERIAL_READ, &p, err, sizeof err),
                    DEPOT_SERIAL_ABSENT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "not present"));
    CU_ASSERT_EQUAL(p.fd, -1);
    CU_ASSERT_EQUAL(depot_serial_open("/dev/null", &c, DEPOT_SERIAL_READ, &p, err,
                                      sizeof err),
                    DEPOT_SERIAL_FAILED);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "/dev/null"));
    c.baud = 1;
    CU_ASSERT_EQUAL(depot_serial_open("/dev/null", &c, DEPOT_SERIAL_READ, &p, err,
                                      sizeof err),
                    DEPOT_SERIAL_INVALID);
    depot_serial_close(&p); /* closing a port that never opened is harmless */
}

int main(void)
{
    static const struct test_case cases[] = {
        {"full_and_partial_forms", TEST_full_and_partial_forms},
        {"bad_values_refused_with_reason", TEST_bad_values_refused_with_reason},
        {"open_missing_path_is_absent", TEST_open_missing_path_is_absent},
        {0},
    };
    return test_run("serial_config", cases);
}
