/*
 * tools_sbegen.c - tools/sbegen.py refuses schemas it cannot generate
 * faithfully: overlapping offsets, fields beyond blockLength, repeating
 * groups, and names whose generated macros would collide. Each case runs the
 * generator (python3) on a small schema and checks its exit status and
 * message.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *HEAD =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<sbe:messageSchema xmlns:sbe=\"http://fixprotocol.io/2016/sbe\" id=\"9\" version=\"0\">\n"
    "<types><composite name=\"messageHeader\">"
    "<type name=\"blockLength\" primitiveType=\"uint16\"/>"
    "<type name=\"templateId\" primitiveType=\"uint16\"/>"
    "<type name=\"schemaId\" primitiveType=\"uint16\"/>"
    "<type name=\"version\" primitiveType=\"uint16\"/></composite>"
    "<type name=\"Two\" primitiveType=\"uint8\" length=\"2\"/></types>\n";

/* Runs sbegen on HEAD + messages; returns its exit status, stderr in err. */
static int run(const char *messages, char *err, size_t cap)
{
    char root[4096];
    snprintf(root, sizeof root, "%s", __FILE__);
    *strrchr(root, '/') = 0;
    *strrchr(root, '/') = 0;
    char xml[] = "/tmp/dtx-sbegen-XXXXXX";
    int fd = mkstemp(xml);
    cr_assert_geq(fd, 0);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "%s%s</sbe:messageSchema>\n", HEAD, messages);
    fclose(f);
    char out[64], errf[64], cmd[8400];
    snprintf(out, sizeof out, "%s.h", xml);
    snprintf(errf, sizeof errf, "%s.err", xml);
    snprintf(cmd, sizeof cmd, "python3 '%s/tools/sbegen.py' %s -o %s 2>%s", root, xml, out, errf);
    int st = system(cmd);
    err[0] = 0;
    FILE *e = fopen(errf, "r");
    if (e) {
        size_t n = fread(err, 1, cap - 1, e);
        err[n] = 0;
        fclose(e);
    }
    unlink(xml);
    unlink(out);
    unlink(errf);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

Test(tools_sbegen, a_plain_schema_generates)
{
    char err[1024];
    cr_expect_eq(run("<sbe:message name=\"M\" id=\"1\" blockLength=\"8\">"
                     "<field name=\"A\" id=\"1\" type=\"uint32\" offset=\"0\"/>"
                     "<field name=\"B\" id=\"2\" type=\"uint32\" offset=\"4\"/></sbe:message>",
                     err, sizeof err),
                 0, "%s", err);
}

Test(tools_sbegen, overlapping_offsets_are_refused)
{
    char err[1024];
    cr_expect_eq(run("<sbe:message name=\"M\" id=\"1\">"
                     "<field name=\"A\" id=\"1\" type=\"uint32\" offset=\"0\"/>"
                     "<field name=\"B\" id=\"2\" type=\"uint32\" offset=\"2\"/></sbe:message>",
                     err, sizeof err),
                 1);
    cr_expect(strstr(err, "overlaps"), "%s", err);
}

Test(tools_sbegen, fields_beyond_block_length_are_refused)
{
    char err[1024];
    cr_expect_eq(run("<sbe:message name=\"M\" id=\"1\" blockLength=\"4\">"
                     "<field name=\"A\" id=\"1\" type=\"uint64\" offset=\"0\"/></sbe:message>",
                     err, sizeof err),
                 1);
    cr_expect(strstr(err, "beyond blockLength 4"), "%s", err);
}

Test(tools_sbegen, repeating_groups_are_refused_not_ignored)
{
    char err[1024];
    cr_expect_eq(run("<sbe:message name=\"M\" id=\"1\">"
                     "<group name=\"G\" id=\"5\"/></sbe:message>",
                     err, sizeof err),
                 1);
    cr_expect(strstr(err, "groups are not supported"), "%s", err);
}

Test(tools_sbegen, colliding_generated_names_are_refused)
{
    char err[1024];
    /* an array field named Block would define M_BLOCK_LENGTH twice */
    cr_expect_eq(run("<sbe:message name=\"M\" id=\"1\">"
                     "<field name=\"Block\" id=\"1\" type=\"Two\"/></sbe:message>",
                     err, sizeof err),
                 1);
    cr_expect(strstr(err, "twice"), "%s", err);
}
