/*
 * e2e_engine.c - runs the real dtx-engine for end-to-end suites and records
 * what clients of the client library receive (see e2e_engine.h).
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dtx/types.h"
#include "support/e2e_engine.h"

#ifndef DTX_BIN_DIR
#error "DTX_BIN_DIR must name the directory of the programs (CMakeLists.txt)"
#endif

const char *e2e_log(const e2e_engine *e)
{
    static char buf[1 << 16];
    FILE *f = fopen(e->log_path, "r");
    size_t n = 0;
    buf[0] = '\0';
    if (f) {
        n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
    }
    buf[n] = '\0';
    return buf;
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void e2e_prepare(e2e_engine *e, const char *config_text)
{
    memset(e, 0, sizeof *e);
    e->pid = -1;
    snprintf(e->dir, sizeof e->dir, "/tmp/dtx-e2e-XXXXXX");
    cr_assert_not_null(mkdtemp(e->dir));
    snprintf(e->keys_path, sizeof e->keys_path, "%s/keys.txt", e->dir);
    snprintf(e->log_path, sizeof e->log_path, "%s/engine.log", e->dir);
    if (config_text) {
        snprintf(e->conf_path, sizeof e->conf_path, "%s/engine.conf", e->dir);
        FILE *f = fopen(e->conf_path, "w");
        cr_assert_not_null(f);
        fputs(config_text, f);
        fclose(f);
    }
}

void e2e_launch(e2e_engine *e)
{
    static const char listening[] = "msg=\"listening\" addr=127.0.0.1:";
    cr_assert_leq(e->pid, 0, "dtx-engine is running already");
    e->port = 0;
    unlink(e->log_path); /* so an earlier run's lines are never read as this one's */
    pid_t p = fork();
    cr_assert_geq(p, 0);
    if (p == 0) {
        int fd = open(e->log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int nul = open("/dev/null", O_RDWR);
        dup2(fd, 2);
        dup2(nul, 1);
        dup2(nul, 0);
        if (chdir(e->dir) != 0)
            _exit(126);
        const char *bin = DTX_BIN_DIR "/dtx-engine";
        if (e->conf_path[0])
            execl(bin, bin, "--port", "0", "--keys-file", e->keys_path, "--config", e->conf_path,
                  (char *)NULL);
        else
            execl(bin, bin, "--port", "0", "--keys-file", e->keys_path, (char *)NULL);
        _exit(127);
    }
    e->pid = p;
    uint64_t deadline = mono_ms() + E2E_SAFETY_MS;
    for (;;) {
        const char *log = e2e_log(e), *at = strstr(log, listening);
        int st;
        if (at && strstr(at, "msg=\"ready\"")) {
            e->port = (uint16_t)atoi(at + strlen(listening));
            break;
        }
        if (waitpid(p, &st, WNOHANG) == p) {
            e->pid = -1;
            cr_assert_fail("dtx-engine exited at start-up:\n%s", log);
        }
        cr_assert_lt(mono_ms(), deadline, "dtx-engine not ready:\n%s", log);
        usleep(5000);
    }
    cr_assert_neq(e->port, 0);
    cr_assert_eq(dtx_keyfile_load(e->keys_path, e->keys, 8, &e->nkeys), DTX_OK, "%s",
                 dtx_error_message());
    cr_assert_geq(e->nkeys, 4);
}

void e2e_start(e2e_engine *e, const char *config_text)
{
    e2e_prepare(e, config_text);
    e2e_launch(e);
}

void e2e_stop_signal(e2e_engine *e, int sig)
{
    int st;
    cr_assert_gt(e->pid, 0);
    cr_assert_eq(kill(e->pid, sig), 0);
    cr_assert_eq(waitpid(e->pid, &st, 0), e->pid);
    e->pid = -1;
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "dtx-engine status 0x%x:\n%s", st,
              e2e_log(e));
}

void e2e_stop(e2e_engine *e) { e2e_stop_signal(e, SIGTERM); }

void e2e_cleanup(e2e_engine *e)
{
    char cmd[160];
    if (e->pid > 0) {
        kill(e->pid, SIGKILL);
        waitpid(e->pid, NULL, 0);
        e->pid = -1;
    }
    if (e->dir[0]) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", e->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "cannot remove %s\n", e->dir);
        e->dir[0] = '\0';
    }
}

dtx_client_config e2e_config(const e2e_engine *e, uint32_t account, const uint8_t *session_id)
{
    dtx_client_config cfg = {.host = "127.0.0.1", .port = e->port, .keepalive_ms = 1000};
    int found = 0;
    for (uint32_t i = 0; i < e->nkeys; i++)
        if (e->keys[i].account == account && e->keys[i].role == DTX_ROLE_TRADER) {
            memcpy(cfg.seckey, e->keys[i].seckey, 32);
            found = 1;
        }
    cr_assert(found, "no trader key for account %u", account);
    if (session_id)
        memcpy(cfg.session_id, session_id, 16);
    return cfg;
}

static void on_report(void *ctx, dtx_client *c, const dtx_client_report *r)
{
    e2e_client *cl = ctx;
    (void)c;
    cr_assert_lt(cl->nreports, E2E_MAX_REPORTS);
    e2e_report *out = &cl->reports[cl->nreports++];
    out->r = *r;
    const char *t = NULL;
    uint16_t n = 0;
    if (r->template_id == DTX_SBE_EXECUTION_REPORT_REJECT_TEMPLATE_ID) {
        t = r->u.reject.text;
        n = r->u.reject.text_length;
    } else if (r->template_id == DTX_SBE_ORDER_CANCEL_REJECT_TEMPLATE_ID) {
        t = r->u.cancel_reject.text;
        n = r->u.cancel_reject.text_length;
    } else if (r->template_id == DTX_SBE_BUSINESS_MESSAGE_REJECT_TEMPLATE_ID) {
        t = r->u.business_reject.text;
        n = r->u.business_reject.text_length;
    }
    snprintf(out->text, sizeof out->text, "%.*s", (int)n, t ? t : "");
}

static void on_session(void *ctx, dtx_client *c, const dtx_client_event *e)
{
    e2e_client *cl = ctx;
    (void)c;
    if (cl->nevents >= E2E_MAX_EVENTS)
        return;
    e2e_event *out = &cl->events[cl->nevents++];
    out->e = *e;
    out->at_report = cl->nreports;
    snprintf(out->reason, sizeof out->reason, "%.*s", (int)e->reason_length,
             e->reason ? e->reason : "");
    out->e.reason = NULL;
}

e2e_client *e2e_client_new(e2e_engine *e, const dtx_client_config *cfg)
{
    e2e_client *cl = calloc(1, sizeof *cl);
    cr_assert_not_null(cl);
    cl->reports = calloc(E2E_MAX_REPORTS, sizeof *cl->reports);
    cr_assert_not_null(cl->reports);
    cl->eng = e;
    dtx_client_callbacks cb = {.ctx = cl, .on_report = on_report, .on_session = on_session};
    cl->c = dtx_client_create(cfg, &cb);
    cr_assert_not_null(cl->c, "%s", dtx_error_message());
    return cl;
}

e2e_client *e2e_login(e2e_engine *e, uint32_t account)
{
    dtx_client_config cfg = e2e_config(e, account, NULL);
    e2e_client *cl = e2e_client_new(e, &cfg);
    cr_assert_eq(dtx_client_connect_wait(cl->c, E2E_SAFETY_MS), DTX_OK, "%s", dtx_error_message());
    return cl;
}

void e2e_client_free(e2e_client *cl)
{
    if (!cl)
        return;
    dtx_client_destroy(cl->c);
    free(cl->reports);
    free(cl);
}

const e2e_report *e2e_next(e2e_client *cl)
{
    uint64_t deadline = mono_ms() + E2E_SAFETY_MS;
    while (cl->next >= cl->nreports) {
        cr_assert_lt(mono_ms(), deadline, "no report came (state %s)",
                     dtx_client_state_name(dtx_client_get_state(cl->c)));
        if (dtx_client_wait(cl->c, 50) < 0)
            cr_assert_fail("connection ended while waiting for a report (%zu events, last %s %s)",
                           cl->nevents,
                           cl->nevents ? dtx_client_event_name(cl->events[cl->nevents - 1].e.type)
                                       : "-",
                           cl->nevents ? cl->events[cl->nevents - 1].reason : "");
    }
    return &cl->reports[cl->next++];
}

const e2e_report *e2e_expect(e2e_client *cl, uint16_t template_id)
{
    const e2e_report *r = e2e_next(cl);
    cr_assert_eq(r->r.template_id, template_id, "report %u came (seq %llu), %u expected",
                 r->r.template_id, (unsigned long long)r->r.seq, template_id);
    return r;
}

const e2e_event *e2e_wait_event(e2e_client *cl, dtx_client_event_type type, size_t *from)
{
    uint64_t deadline = mono_ms() + E2E_SAFETY_MS;
    size_t i = from ? *from : 0;
    for (;;) {
        for (; i < cl->nevents; i++)
            if (cl->events[i].e.type == type) {
                if (from)
                    *from = i + 1;
                return &cl->events[i];
            }
        cr_assert_lt(mono_ms(), deadline, "no %s event came", dtx_client_event_name(type));
        if (dtx_client_wait(cl->c, 50) < 0)
            usleep(1000);
    }
}

void e2e_wait_state(e2e_client *cl, dtx_client_state st)
{
    uint64_t deadline = mono_ms() + E2E_SAFETY_MS;
    while (dtx_client_get_state(cl->c) != st) {
        cr_assert_lt(mono_ms(), deadline, "state %s, %s expected",
                     dtx_client_state_name(dtx_client_get_state(cl->c)), dtx_client_state_name(st));
        if (dtx_client_wait(cl->c, 50) < 0)
            usleep(1000);
    }
}

void e2e_barrier(e2e_client *cl)
{
    dtx_sbe_order_cancel_request m = {.cl_ord_id = E2E_BARRIER_CLORDID + cl->barrier_seq++,
                                      .orig_cl_ord_id = 0xDEADull << 32};
    cr_assert_eq(dtx_client_cancel(cl->c, &m, NULL), DTX_OK, "%s", dtx_error_message());
    const e2e_report *r = e2e_next(cl);
    cr_assert(r->r.template_id == DTX_SBE_ORDER_CANCEL_REJECT_TEMPLATE_ID &&
                  r->r.u.cancel_reject.cl_ord_id == m.cl_ord_id,
              "an unexpected report came before the barrier: template %u seq %llu",
              r->r.template_id, (unsigned long long)r->r.seq);
    cr_assert_eq(r->r.u.cancel_reject.reject_reason, DTX_REJ_UNKNOWN_ORDER);
}

dtx_sbe_new_order_single e2e_limit(uint64_t clordid, uint8_t side, int64_t px, int64_t qty)
{
    dtx_sbe_new_order_single m = {.cl_ord_id = clordid, .security_id = 1, .side = side,
                                  .ord_type = DTX_ORD_LIMIT, .time_in_force = DTX_TIF_GTC,
                                  .price = px, .stop_px = DTX_PRICE_NULL, .order_qty = qty};
    return m;
}

uint64_t e2e_send(e2e_client *cl, const dtx_sbe_new_order_single *m)
{
    uint64_t seq = 0;
    cr_assert_eq(dtx_client_new_order(cl->c, m, &seq), DTX_OK, "%s", dtx_error_message());
    return seq;
}

int e2e_run(e2e_engine *e, const char *name, const char *const *args, char *out, size_t cap)
{
    char bin[256], outp[160];
    const char *argv[32];
    int n = 0, st;
    snprintf(bin, sizeof bin, "%s/%s", DTX_BIN_DIR, name);
    snprintf(outp, sizeof outp, "%s/%s.out", e->dir, name);
    argv[n++] = bin;
    for (; args && *args && n < 31; args++)
        argv[n++] = *args;
    argv[n] = NULL;
    pid_t p = fork();
    cr_assert_geq(p, 0);
    if (p == 0) {
        int fd = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int nul = open("/dev/null", O_RDONLY);
        dup2(nul, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        if (chdir(e->dir) != 0)
            _exit(126);
        execv(bin, (char *const *)(uintptr_t)argv);
        _exit(127);
    }
    cr_assert_eq(waitpid(p, &st, 0), p);
    FILE *f = fopen(outp, "r");
    size_t got = 0;
    if (f) {
        got = fread(out, 1, cap - 1, f);
        fclose(f);
    }
    out[got] = '\0';
    cr_assert(WIFEXITED(st), "%s did not exit normally (0x%x):\n%s", name, st, out);
    return WEXITSTATUS(st);
}
