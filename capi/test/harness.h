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

/* ---- Results into test buffers ------------------------------------------ */

/*
 * The tests read many short results (ids, hosts, keys, signed messages)
 * into fixed arrays. These take the library's p2p_buf result, copy it into
 * buf[0..cap) (NUL-terminated when nul: then the NUL must fit too), store
 * the full length in *len (len may be NULL) and free the p2p_buf. They
 * return the call's code, or P2P_ERANGE when the test's array was too short
 * (a test bug, never a library code). h_buf_take is the common part.
 */
int h_buf_take(int rc, p2p_buf *b, void *buf, size_t cap, size_t *len, int nul);
int h_node_id(p2p_node *n, char *buf, size_t cap);
int h_node_host(p2p_node *n, char *buf, size_t cap);
/* The handles of n's peers of a direction into peers[0..cap); *count: how many. */
int h_node_peers(p2p_node *n, int direction, uint64_t *peers, size_t cap, size_t *count);
int h_peer_id(p2p_node *n, uint64_t peer, char *buf, size_t cap);
int h_peer_host(p2p_node *n, uint64_t peer, char *buf, size_t cap);
int h_peer_get_info(p2p_node *n, uint64_t peer, const char *key, void *buf, size_t cap, size_t *len);
int h_secure_public_key(p2p_node *n, char *buf, size_t cap);
int h_secure_private_key(p2p_node *n, char *buf, size_t cap);
int h_secure_pinned_key(p2p_node *n, const char *id, char *buf, size_t cap);
int h_secure_create_message(p2p_node *n, const char *json, size_t jlen, char *buf, size_t cap, size_t *len);
int h_secure_canonical(const char *json, size_t jlen, char *buf, size_t cap, size_t *len);
int h_secure_sign(p2p_node *n, const char *text, size_t tlen, char *buf, size_t cap);
int h_secure_encrypt(const char *pem, const void *data, size_t dlen, char *buf, size_t cap, size_t *len);
int h_secure_decrypt(p2p_node *n, const char *text, size_t tlen, void *buf, size_t cap, size_t *len);
int h_secure_aes_pad(const void *data, size_t dlen, void *buf, size_t cap, size_t *len);
int h_secure_aes_encrypt(const void *key, size_t klen, const void *data, size_t dlen, void *buf, size_t cap,
                         size_t *len);
int h_secure_aes_decrypt(const void *key, size_t klen, const void *data, size_t dlen, void *buf, size_t cap,
                         size_t *len);
int h_secure_aes_encrypt_pw(const void *pw, size_t pwlen, const void *data, size_t dlen, void *buf, size_t cap,
                            size_t *len);
int h_secure_aes_decrypt_pw(const void *pw, size_t pwlen, const void *data, size_t dlen, void *buf, size_t cap,
                            size_t *len);
int h_secure_aes_decrypt_file(const char *path, const void *key, size_t klen, void *buf, size_t cap, size_t *len);
int h_secure_aes_decrypt_file_pw(const char *path, const void *pw, size_t pwlen, void *buf, size_t cap,
                                 size_t *len);

#endif
