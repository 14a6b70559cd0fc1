/*
 * test_batchcb.c - messages reach the callback in batches (one Go -> C call
 * for many; capi/callback.go onCoreBatch, shim.c p2p_call_batch_). The
 * contract of the callback is unchanged: these tests hold it to that under
 * bursts: order, no loss, the fields of every event (0.2 and 0.3 records),
 * payloads around the batch's bounds (empty, several MiB in total, one over
 * 1 MiB alone), one thread, and a free inside the callback or from another
 * thread stopping the batch before its next event.
 */
#include <unistd.h>

#include "harness.h"
#include "batchcb_tests.h"

/* What a burst callback checks for each message: "<seq>:<filler>" in
 * order, every field as for a single event. */
typedef struct burst {
    long got, bad, other;
    uint64_t peer;     /* the sender's handle on the receiver, once known */
    char peer_id[160]; /* the sender's id */
    size_t big;        /* messages over 1 MiB seen intact */
    pthread_t thread;
    int threads; /* distinct delivering threads seen (1 is right) */
    p2p_node *node;
} burst;

/* The i-th message of a burst: its number, then filler up to a length
 * that varies (0 to 20000 bytes); every 1000th is empty; message 1500 is
 * 1.5 MiB (over a batch's 1 MiB of payload, so it goes alone). */
static size_t burst_msg(long i, char *buf, size_t cap) {
    if (i % 1000 == 999) return 0;
    size_t len = i == 1500 ? (size_t)3 << 19 : (size_t)(i * 7919 % 20000);
    int n = snprintf(buf, cap, "%ld:", i);
    if (len < (size_t)n) len = (size_t)n;
    if (len > cap) len = cap;
    for (size_t k = (size_t)n; k < len; k++) buf[k] = (char)('a' + (i + (long)k) % 26);
    return len;
}

static char *burst_want; /* scratch for the expected message, on the event thread only */

static void burst_check(burst *b, int type, p2p_node *node, uint64_t peer, const char *peer_id, size_t peer_id_len,
                        const uint8_t *data, size_t len, int kind) {
    if (type != P2P_EVENT_MESSAGE) {
        b->other++;
        return;
    }
    pthread_t self = pthread_self();
    if (b->got == 0 && b->threads == 0) {
        b->thread = self;
        b->threads = 1;
    } else if (!pthread_equal(self, b->thread)) {
        b->threads++;
    }
    /* every message is numbered but the empty ones */
    long seq = b->got;
    size_t wlen = burst_msg(seq, burst_want, (size_t)2 << 20);
    int ok = node == b->node && data != NULL && len == wlen && memcmp(data, burst_want, len) == 0 &&
             peer_id_len == strlen(peer_id) && strcmp(peer_id, b->peer_id) == 0 &&
             (kind == P2P_KIND_TEXT || len == 0) && (b->peer == 0 || peer == b->peer);
    if (b->peer == 0) b->peer = peer;
    if (!ok) {
        if (b->bad < 3) fprintf(stderr, "    message %ld: len %zu (want %zu), peer %llu\n", seq, len, wlen,
                                (unsigned long long)peer);
        b->bad++;
    }
    if (len > (size_t)1 << 20 && ok) b->big++;
    __atomic_store_n(&b->got, seq + 1, __ATOMIC_RELEASE);
}

static int burst_cb02(void *user, const p2p_event *ev) {
    burst *b = user;
    burst_check(b, ev->type, ev->node, ev->peer, ev->peer_id, strlen(ev->peer_id), ev->data, ev->data_len, ev->kind);
    if (ev->type == P2P_EVENT_MESSAGE && (ev->host[0] || ev->sender_id[0] || ev->msg_type[0] || ev->reason[0]))
        b->bad++;
    return 1;
}

static int burst_cb03(void *user, const p2p_ev *ev) {
    burst *b = user;
    if (ev->size < sizeof *ev || (ev->type == P2P_EVENT_MESSAGE && (ev->topic[0] || ev->origin[0] || ev->nodes)))
        b->bad++;
    burst_check(b, ev->type, ev->node, ev->peer, ev->peer_id, ev->peer_id_len, ev->data, ev->data_len, ev->kind);
    return 1;
}

static void run_burst(int sized) {
    enum { COUNT = 6000 };
    static burst b; /* outlives the node's thread */
    p2p_node *a = NULL, *r = NULL;
    char *buf = malloc((size_t)2 << 20);
    char *all = malloc((size_t)32 << 20);
    size_t lens[500];
    memset(&b, 0, sizeof b);
    burst_want = malloc((size_t)2 << 20);
    REQUIRE(buf && all && burst_want);
    REQUIRE(p2p_node_new("127.0.0.1", 0, "batch-sender", 0, &a) == P2P_OK);
    REQUIRE(p2p_node_start(a) == P2P_OK);
    REQUIRE(p2p_node_new("127.0.0.1", 0, NULL, 0, &r) == P2P_OK);
    b.node = r;
    snprintf(b.peer_id, sizeof b.peer_id, "batch-sender");
    if (sized)
        REQUIRE(p2p_node_set_handler(r, burst_cb03, &b) == P2P_OK);
    else
        REQUIRE(p2p_node_set_callback(r, burst_cb02, &b) == P2P_OK);
    REQUIRE(p2p_node_start(r) == P2P_OK);
    uint64_t peer = 0;
    REQUIRE(p2p_node_connect(a, "127.0.0.1", node_port(r), 0, &peer) == P2P_OK);
    /* bursts of up to 500 by p2p_node_send_batch, and runs of single sends */
    for (long i = 0; i < COUNT;) {
        if (i % 2000 < 100) {
            size_t len = burst_msg(i, buf, (size_t)2 << 20);
            CHECK_RC(p2p_node_send(a, peer, buf, len, P2P_COMPRESSION_NONE), P2P_OK);
            i++;
            continue;
        }
        size_t k = 0, off = 0;
        for (; k < 500 && i + (long)k < COUNT; k++) {
            size_t len = burst_msg(i + (long)k, all + off, (size_t)2 << 20);
            lens[k] = len;
            off += len;
        }
        size_t sent = 0;
        CHECK_RC(p2p_node_send_batch(a, peer, all, lens, k, P2P_COMPRESSION_NONE, &sent), P2P_OK);
        REQUIRE(sent == k);
        i += (long)k;
    }
    CHECKF(WAIT_UNTIL(__atomic_load_n(&b.got, __ATOMIC_ACQUIRE) >= COUNT), "got %ld of %d",
           __atomic_load_n(&b.got, __ATOMIC_ACQUIRE), COUNT);
    CHECKF(b.bad == 0, "%ld messages wrong or out of order", b.bad);
    CHECK(b.big == 1);
    CHECK(b.threads == 1);
    CHECK(b.other == 1); /* INBOUND_CONNECTED */
    /* the sender goes: its disconnected event after every message */
    p2p_node_free(a);
    a = NULL;
    CHECK(WAIT_UNTIL(__atomic_load_n(&b.other, __ATOMIC_ACQUIRE) == 2));
    CHECK(b.got == COUNT);
out:
    if (a) p2p_node_free(a);
    if (r) p2p_node_free(r);
    free(buf);
    free(all);
    free(burst_want);
    burst_want = NULL;
}

void test_batchcb_burst(void) { run_burst(0); }
void test_batchcb_burst_sized(void) { run_burst(1); }

/* A free inside the callback, in the middle of a batch: the callbacks
 * before it ran, none after it. */
typedef struct freeing {
    long got, after, free_at;
    int rc, freed;
} freeing;

static freeing freeing_state; /* outlives the node, whose thread may still run */

static int freeing_cb(void *user, const p2p_event *ev) {
    freeing *f = user;
    if (__atomic_load_n(&f->freed, __ATOMIC_ACQUIRE)) {
        __atomic_add_fetch(&f->after, 1, __ATOMIC_SEQ_CST);
        return 1;
    }
    if (ev->type != P2P_EVENT_MESSAGE) return 1;
    if (ev->data_len == 4 && memcmp(ev->data, "free", 4) == 0) {
        f->free_at = f->got;
        f->rc = p2p_node_free(ev->node);
        __atomic_store_n(&f->freed, 1, __ATOMIC_RELEASE);
    }
    __atomic_add_fetch(&f->got, 1, __ATOMIC_SEQ_CST);
    return 1;
}

void test_batchcb_free_inside(void) {
    enum { COUNT = 1000, AT = 400 };
    p2p_node *a = NULL, *r = NULL;
    static char data[COUNT * 8];
    size_t lens[COUNT], off = 0;
    freeing *f = &freeing_state;
    memset(f, 0, sizeof *f);
    f->free_at = -1;
    recorder ra;
    rec_init(&ra, 64);
    REQUIRE((a = mk_node(&ra, NULL)) != NULL && p2p_node_start(a) == P2P_OK);
    REQUIRE(p2p_node_new("127.0.0.1", 0, NULL, 0, &r) == P2P_OK);
    REQUIRE(p2p_node_set_callback(r, freeing_cb, f) == P2P_OK);
    REQUIRE(p2p_node_start(r) == P2P_OK);
    uint64_t peer = 0;
    REQUIRE(p2p_node_connect(a, "127.0.0.1", node_port(r), 0, &peer) == P2P_OK);
    for (int i = 0; i < COUNT; i++) {
        const char *m = i == AT ? "free" : "msg";
        lens[i] = strlen(m);
        memcpy(data + off, m, lens[i]);
        off += lens[i];
    }
    size_t sent = 0;
    CHECK_RC(p2p_node_send_batch(a, peer, data, lens, COUNT, P2P_COMPRESSION_NONE, &sent), P2P_OK);
    CHECK(WAIT_UNTIL(__atomic_load_n(&f->freed, __ATOMIC_ACQUIRE)));
    CHECK_RC(f->rc, P2P_OK);
    CHECK(f->free_at == AT);
    /* the node went away: its peer saw it; nothing reached the callback after the free */
    CHECK(WAIT_UNTIL(rec_count(&ra, P2P_EVENT_OUTBOUND_DISCONNECTED) == 1));
    CHECK(__atomic_load_n(&f->got, __ATOMIC_SEQ_CST) == AT + 1);
    CHECKF(__atomic_load_n(&f->after, __ATOMIC_SEQ_CST) == 0, "%ld callbacks after the free",
           __atomic_load_n(&f->after, __ATOMIC_SEQ_CST));
    int port;
    CHECK_RC(p2p_node_port(r, &port), P2P_EHANDLE);
    r = NULL;
out:
    if (a) p2p_node_free(a);
    if (r) p2p_node_free(r);
    rec_destroy(&ra);
}

/* A free from another thread while a callback of a batch is busy: free
 * waits for it, and no callback starts once free has returned. */
typedef struct blocker {
    long got, after;
    int in_callback, release, free_returned;
    p2p_node *node;
} blocker;

static blocker blocker_state;

static int blocker_cb(void *user, const p2p_event *ev) {
    blocker *b = user;
    if (__atomic_load_n(&b->free_returned, __ATOMIC_ACQUIRE)) __atomic_add_fetch(&b->after, 1, __ATOMIC_SEQ_CST);
    if (ev->type != P2P_EVENT_MESSAGE) return 1;
    if (__atomic_add_fetch(&b->got, 1, __ATOMIC_SEQ_CST) == 10) {
        __atomic_store_n(&b->in_callback, 1, __ATOMIC_SEQ_CST);
        while (!__atomic_load_n(&b->release, __ATOMIC_SEQ_CST)) h_nap();
    }
    return 1;
}

static void *blocker_free(void *arg) {
    blocker *b = arg;
    p2p_node_free(b->node);
    __atomic_store_n(&b->free_returned, 1, __ATOMIC_RELEASE);
    return NULL;
}

void test_batchcb_free_from_other_thread(void) {
    enum { COUNT = 2000 };
    p2p_node *a = NULL, *r = NULL;
    static char data[COUNT * 4];
    size_t lens[COUNT];
    blocker *b = &blocker_state;
    pthread_t th;
    int started = 0;
    memset(b, 0, sizeof *b);
    memset(data, 'x', sizeof data);
    for (int i = 0; i < COUNT; i++) lens[i] = 4;
    REQUIRE(p2p_node_new("127.0.0.1", 0, NULL, 0, &a) == P2P_OK && p2p_node_start(a) == P2P_OK);
    REQUIRE(p2p_node_new("127.0.0.1", 0, NULL, 0, &r) == P2P_OK);
    REQUIRE(p2p_node_set_callback(r, blocker_cb, b) == P2P_OK);
    REQUIRE(p2p_node_start(r) == P2P_OK);
    b->node = r;
    uint64_t peer = 0;
    REQUIRE(p2p_node_connect(a, "127.0.0.1", node_port(r), 0, &peer) == P2P_OK);
    size_t sent = 0;
    CHECK_RC(p2p_node_send_batch(a, peer, data, lens, COUNT, P2P_COMPRESSION_NONE, &sent), P2P_OK);
    REQUIRE(WAIT_UNTIL(__atomic_load_n(&b->in_callback, __ATOMIC_SEQ_CST)));
    REQUIRE(pthread_create(&th, NULL, blocker_free, b) == 0);
    started = 1;
    /* free cannot return while the callback is busy */
    CHECK(!__atomic_load_n(&b->free_returned, __ATOMIC_ACQUIRE));
    __atomic_store_n(&b->release, 1, __ATOMIC_SEQ_CST);
    pthread_join(th, NULL);
    started = 0;
    CHECK(__atomic_load_n(&b->free_returned, __ATOMIC_ACQUIRE));
    long got = __atomic_load_n(&b->got, __ATOMIC_SEQ_CST);
    CHECK(got >= 10 && got <= COUNT);
    CHECK(__atomic_load_n(&b->after, __ATOMIC_SEQ_CST) == 0);
    r = NULL;
out:
    if (started) {
        __atomic_store_n(&b->release, 1, __ATOMIC_SEQ_CST);
        pthread_join(th, NULL);
    }
    if (a) p2p_node_free(a);
    if (r) p2p_node_free(r);
}
