/*
 * daemon_keys.c - the demo accounts' key file (dtx/keyfile.h): generated at
 * the first start with mode 0600 and the documented line format, reloaded
 * unchanged later, extended when more accounts are configured; bad lines,
 * mismatched keys and loose permissions are refused with the line named.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dtx/keyfile.h"

/* Secret key 1: its public key is the generator G. */
#define SEC1 "0000000000000000000000000000000000000000000000000000000000000001"
#define PUB1 "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
/* Secret key 2: 2G. */
#define SEC2 "0000000000000000000000000000000000000000000000000000000000000002"
#define PUB2 "02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5"

static char dir[64];
static char path[128];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/dtx-keys-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/keys.txt", dir);
}

static void teardown(void)
{
    char tmp[160];
    unlink(path);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    unlink(tmp);
    rmdir(dir);
}

TestSuite(daemon_keys, .init = setup, .fini = teardown);

static void write_file(const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
    chmod(path, mode);
}

static dtx_key_entry keys[16];

Test(daemon_keys, first_start_generates_trader_keys_in_a_0600_file)
{
    uint32_t n = 0, gen = 0;
    struct stat sb;
    cr_assert_eq(dtx_keyfile_ensure_demo(path, 3, keys, 16, &n, &gen), DTX_OK, "%s",
                 dtx_error_message());
    cr_assert_eq(n, 3);
    cr_assert_eq(gen, 3);
    for (uint32_t i = 0; i < 3; i++) {
        cr_assert_eq(keys[i].account, i + 1);
        cr_assert_eq(keys[i].role, DTX_ROLE_TRADER);
        cr_assert(keys[i].pubkey[0] == 0x02 || keys[i].pubkey[0] == 0x03);
    }
    cr_assert_neq(memcmp(keys[0].seckey, keys[1].seckey, 32), 0);
    cr_assert_eq(stat(path, &sb), 0);
    cr_assert_eq(sb.st_mode & 0777, 0600);

    /* The lines: account role secret(64 hex) pubkey(66 hex). */
    FILE *f = fopen(path, "r");
    char line[256];
    int data_lines = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned acct;
        char role[16], sec[80], pub[80];
        if (line[0] == '#')
            continue;
        cr_assert_eq(sscanf(line, "%u %15s %79s %79s", &acct, role, sec, pub), 4, "%s", line);
        cr_assert_eq(acct, (unsigned)data_lines + 1);
        cr_assert_str_eq(role, "trader");
        cr_assert_eq(strlen(sec), 64);
        cr_assert_eq(strlen(pub), 66);
        data_lines++;
    }
    fclose(f);
    cr_assert_eq(data_lines, 3);
}

Test(daemon_keys, later_starts_load_the_same_keys_and_add_only_missing_accounts)
{
    dtx_key_entry again[16];
    uint32_t n = 0, n2 = 0, gen = 9;
    cr_assert_eq(dtx_keyfile_ensure_demo(path, 2, keys, 16, &n, NULL), DTX_OK);
    cr_assert_eq(dtx_keyfile_ensure_demo(path, 2, again, 16, &n2, &gen), DTX_OK);
    cr_assert_eq(n2, 2);
    cr_assert_eq(gen, 0);
    cr_assert_eq(memcmp(keys, again, sizeof keys[0] * 2), 0);
    cr_assert_eq(dtx_keyfile_ensure_demo(path, 4, again, 16, &n2, &gen), DTX_OK);
    cr_assert_eq(n2, 4);
    cr_assert_eq(gen, 2);
    cr_assert_eq(memcmp(keys, again, sizeof keys[0] * 2), 0);
    cr_assert_eq(again[3].account, 4);
}

Test(daemon_keys, a_hand_written_file_with_known_keys_loads_exactly)
{
    uint32_t n = 0;
    write_file("# comment\n\n1 trader " SEC1 " " PUB1 "\n  7 operator " SEC2 " " PUB2 "\n",
               0600);
    cr_assert_eq(dtx_keyfile_load(path, keys, 16, &n), DTX_OK, "%s", dtx_error_message());
    cr_assert_eq(n, 2);
    cr_assert_eq(keys[0].account, 1);
    cr_assert_eq(keys[0].role, DTX_ROLE_TRADER);
    cr_assert_eq(keys[0].seckey[31], 1);
    cr_assert_eq(keys[0].pubkey[0], 0x02);
    cr_assert_eq(keys[0].pubkey[1], 0x79);
    cr_assert_eq(keys[0].pubkey[32], 0x98);
    cr_assert_eq(keys[1].account, 7);
    cr_assert_eq(keys[1].role, DTX_ROLE_OPERATOR);
    cr_assert_eq(keys[1].pubkey[1], 0xc6);
}

static void expect_load_error(const char *text, mode_t mode, dtx_status st, const char *tail)
{
    uint32_t n = 99;
    char want[512];
    write_file(text, mode);
    cr_assert_eq(dtx_keyfile_load(path, keys, 16, &n), st);
    cr_assert_eq(n, 0);
    snprintf(want, sizeof want, "%s%s", path, tail);
    cr_assert_str_eq(dtx_error_message(), want);
}

Test(daemon_keys, bad_lines_are_refused_naming_the_line)
{
    expect_load_error("1 trader " SEC1 " " PUB2 "\n", 0600, DTX_EINVAL,
                      ":1: public key is not the one the secret key derives");
    expect_load_error("#\n1 boss " SEC1 " " PUB1 "\n", 0600, DTX_EINVAL,
                      ":2: role is not one of trader, drop-copy, risk, operator, oracle");
    expect_load_error("1 trader " SEC1 "\n", 0600, DTX_EINVAL,
                      ":1: expected 4 fields: account role secret_hex pubkey_hex");
    expect_load_error("1 trader 00 " PUB1 "\n", 0600, DTX_EINVAL,
                      ":1: secret key is not 64 hex digits");
    expect_load_error("1 trader "
                      "0000000000000000000000000000000000000000000000000000000000000000 " PUB1
                      "\n",
                      0600, DTX_EINVAL, ":1: secret key is not a valid secp256k1 scalar");
    expect_load_error("1 trader " SEC1 " " PUB1 "\n1 trader " SEC2 " " PUB2 "\n", 0600,
                      DTX_EINVAL, ":2: account 1 already has a trader key");
}

Test(daemon_keys, a_file_readable_by_others_is_refused)
{
    expect_load_error("1 trader " SEC1 " " PUB1 "\n", 0644, DTX_EINVAL,
                      ": holds secret keys but is readable by group or others (mode 0644); "
                      "chmod 600 it");
}

Test(daemon_keys, more_keys_than_room_is_efull)
{
    uint32_t n = 0;
    write_file("1 trader " SEC1 " " PUB1 "\n2 trader " SEC2 " " PUB2 "\n", 0600);
    cr_assert_eq(dtx_keyfile_load(path, keys, 1, &n), DTX_EFULL);
    cr_assert_eq(n, 0);
}
