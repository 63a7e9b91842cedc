/*
 * fixp_credentials_digest.c - the digests credentials sign
 * (dtx/fixp_credentials.h), against fixed vectors computed outside dtx
 * (Python's hashlib.sha256 over the bytes PROTOCOL.md names), so the server,
 * the client library and the test clients cannot drift from the spec together.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "dtx/fixp_credentials.h"

static void expect_digest(const uint8_t got[32], const char *hex)
{
    char s[65];
    for (int i = 0; i < 32; i++)
        snprintf(s + 2 * i, 3, "%02x", got[i]);
    cr_expect_str_eq(s, hex);
}

/* sha256(b"DTX-FIX-LOGON|FIRM1|20200101-00:00:00.000") */
Test(fixp_credentials_digest, fix44_logon_digest_is_sha256_of_tag_sender_bar_sending_time)
{
    uint8_t d[32];
    const char *sender = "FIRM1", *sending = "20200101-00:00:00.000";
    dtx_fixp_credentials_fix44_digest(sender, strlen(sender), sending, strlen(sending), d);
    expect_digest(d, "fbf22d260b496beca40a616934da4d8963f1e2a0369f6e27f51131e1efb6d40d");
}

Test(fixp_credentials_digest, fix44_logon_digest_reads_only_the_given_lengths)
{
    uint8_t d[32];
    /* the values as they sit in a message: followed by SOH and more fields */
    const char *msg = "FIRM1\00152=20200101-00:00:00.000\00198=0";
    dtx_fixp_credentials_fix44_digest(msg, 5, msg + 9, 21, d);
    expect_digest(d, "fbf22d260b496beca40a616934da4d8963f1e2a0369f6e27f51131e1efb6d40d");
}

/* sha256(b"DTX-FIXP-NEGOTIATE" + bytes(range(16)) + (1767225600123456789).to_bytes(8, "little")) */
Test(fixp_credentials_digest, fixp_digest_is_sha256_of_tag_session_id_and_timestamp_le)
{
    uint8_t id[16], d[32];
    for (int i = 0; i < 16; i++)
        id[i] = (uint8_t)i;
    dtx_fixp_credentials_digest(DTX_FIXP_TAG_NEGOTIATE, id, 1767225600123456789ull, d);
    expect_digest(d, "b16847a260977292f9255e3360f4bca549c45ccba135bd6fea25b12d26113113");
}
