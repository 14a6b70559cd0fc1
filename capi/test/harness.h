/*
 * harness.h - the small test harness and helpers shared by the C tests of
 * the p2pnode C ABI (test_capi.c, vg_canary.c).
 *
 * Tests are plain functions registered in a table; a test passes when none of
 * its CHECKs failed. Waits are on conditions with a deadline (WAIT_UNTIL),
 * never fixed sleeps. Events are recorded by a recorder (a mutex-guarded
 * array of deep copies), because callbacks run on the library's thread.
 */
#ifndef P2P_TEST_HARNESS_H
#define P2P_TEST_HARNESS_H

#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "p2pnode.h"

/* ---- Checks ------------------------------------------------------------- */

extern int h_test_failed; /* set by a failing CHECK in the running test */

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            h_test_failed = 1;                                                   \
            fprintf(stderr, "    %s:%d: CHECK failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                      \
        }                                                                        \
    } while (0)

#define CHECKF(cond, ...)                                                        \
    do {                                                                         \
        if (!(cond)) {                                                           \
            h_test_failed = 1;                                                   \
            fprintf(stderr, "    %s:%d: CHECK failed: %s: ", __FILE__, __LINE__, \
                    #cond);                                                      \
            fprintf(stderr, __VA_ARGS__);                                        \
            fputc('\n', stderr);                                                 \
        }                                                                        \
    } while (0)

/* CHECK_RC(expr, want): expr returns a status code equal to want. */
#define CHECK_RC(expr, want)                                                          \
    do {                                                                              \
        int rc_ = (expr);                                                             \
        int want_ = (want);                                                           \
        if (rc_ != want_) {                                                           \
            h_test_failed = 1;                                                        \
            fprintf(stderr, "    %s:%d: %s returned %d (%s), want %d (%s); msg: %s\n", \
                    __FILE__, __LINE__, #expr, rc_, p2p_strerror(rc_), want_,         \
                    p2p_strerror(want_), p2p_errmsg());                               \
        }                                                                             \
    } while (0)

/* REQUIRE: like CHECK, but ends the test (jumping to its `out:` label). */
#define REQUIRE(cond)                                                                   \
    do {                                                                                \
        if (!(cond)) {                                                                  \
            h_test_failed = 1;                                                          \
            fprintf(stderr, "    %s:%d: REQUIRE failed: %s (%s)\n", __FILE__, __LINE__, \
                    #cond, p2p_errmsg());                                               \
            goto out;                                                                   \
        }                                                                               \
    } while (0)

/* ---- Time --------------------------------------------------------------- */

/* How long a condition may take to come true: 10 s, or P2P_TEST_WAIT_MS
 * (the valgrind run sets it: everything is many times slower there). */
int64_t h_wait_ms(void);
#define WAIT_MS h_wait_ms()

static inline int64_t h_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void h_nap(void) {
    struct timespec ts = {0, 2 * 1000 * 1000}; /* 2 ms between looks */
    nanosleep(&ts, NULL);
}

/* WAIT_UNTIL(cond): evaluates cond until true or WAIT_MS pass; yields it. */
#define WAIT_UNTIL(cond)                                   \
    __extension__({                                        \
        int64_t until_ = h_now_ms() + WAIT_MS;             \
        int ok_;                                           \
        while (!(ok_ = !!(cond)) && h_now_ms() < until_) \
            h_nap();                                       \
        ok_;                                               \
    })

/* ---- Event recorder ----------------------------------------------------- */

typedef struct rec_event {
    int type, kind, compression, direction, peer_port, port, trials, reserved;
    uint64_t peer;
    p2p_node *node;
    char *peer_id, *peer_host, *host; /* copies; NULL when the event had NULL */
    unsigned char *data;              /* copy (+1 NUL); NULL when ev->data was NULL */
    size_t data_len;
    pthread_t thread;
    /* secure events (9..11); strings are copies, NULL when the event had NULL */
    char *sender_id, *msg_type, *reason;
    int reject, reserved2;
    char *nodes; /* "id@host:port/in|out,..." of a discovery answer ("" when none) */
    size_t n_nodes;
    uint64_t dropped, dropped_bytes; /* disconnected events */
} rec_event;

typedef struct recorder recorder;
/* A hook runs inside the callback (or after a poll) with the raw event. */
typedef void (*rec_hook)(recorder *r, const p2p_event *ev);

struct recorder {
    pthread_mutex_t mu;
    rec_event *ev;
    size_t n, cap, overflow;
    int answer; /* what the callback returns for RECONNECTION_ERROR */
    rec_hook hook;
    void *ctx;
};

void rec_init(recorder *r, size_t cap);
void rec_destroy(recorder *r);
void rec_add(recorder *r, const p2p_event *ev);
size_t rec_len(recorder *r);
/* How many events of type (0: any) were recorded. */
size_t rec_count(recorder *r, int type);
/* The nth (from 0) event of type (0: any), or NULL. Entries never move. */
const rec_event *rec_nth(recorder *r, int type, size_t nth);
/* Index of the nth event of type, or -1. */
long rec_index(recorder *r, int type, size_t nth);
/* How many MESSAGE events carry exactly these bytes. */
size_t rec_count_msg(recorder *r, const void *data, size_t len);
void rec_set_answer(recorder *r, int answer);

/* The event callback: records, runs the hook, returns r->answer. */
int rec_callback(void *user, const p2p_event *ev);

/* Poll once (timeout_ms) and record; answers a reconnection question with
 * r->answer through p2p_node_reply. Returns p2p_node_poll's code. */
int rec_pump(p2p_node *node, recorder *r, int timeout_ms);

/* WAIT_POLL(node, r, cond): pumps events of a poll-mode node until cond. */
#define WAIT_POLL(node, r, cond)                                \
    __extension__({                                             \
        int64_t until_ = h_now_ms() + WAIT_MS;                  \
        int ok_;                                                \
        while (!(ok_ = !!(cond)) && h_now_ms() < until_)       \
            rec_pump((node), (r), 5);                           \
        ok_;                                                    \
    })

/* ---- Nodes -------------------------------------------------------------- */

/* A node on 127.0.0.1:0; with r, in callback mode delivering to r. Not started. */
p2p_node *mk_node(recorder *r, const char *id);
int node_port(p2p_node *n);
/* The node's number of peers of a direction. */
size_t peer_count(p2p_node *n, int direction);

#endif
