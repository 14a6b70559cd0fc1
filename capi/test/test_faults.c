/*
 * test_faults.c - hostile calls and faults at the C ABI (issue 16): a node
 * nobody polls must still stop, lengths far over the limits are refused
 * before a byte is read, limit values the core cannot hold are refused, any
 * size_t is a valid poll size, poll-mode handles outlive their peer until
 * the disconnected event is polled, freed nodes leave only a few bytes, and
 * a forked child gets P2P_EFORK at once. Part of test_capi (see the table
 * there); each test ends with the nodes still exchanging messages.
 */
#include "harness.h" /* first: it defines _GNU_SOURCE */

#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fault_tests.h"

/* ---- Helpers ------------------------------------------------------------------ */

/* run_bounded runs fn(arg) on a thread of its own and waits up to WAIT_MS
 * for it: 1 if it returned, 0 if it still runs (it is then left behind). */
static int run_bounded(void *(*fn)(void *), void *arg) {
    pthread_t t;
    if (pthread_create(&t, NULL, fn, arg) != 0) return 0;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    int64_t ms = WAIT_MS;
    until.tv_sec += ms / 1000;
    until.tv_nsec += (ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    if (pthread_timedjoin_np(t, NULL, &until) != 0) {
        pthread_detach(t);
        return 0;
    }
    return 1;
}

typedef struct call {
    p2p_node *n;
    uint64_t peer;
    int rc;
} call;

static void *do_stop(void *arg) {
    call *c = arg;
    c->rc = p2p_node_stop(c->n);
    return NULL;
}

static void *do_disconnect(void *arg) {
    call *c = arg;
    c->rc = p2p_node_disconnect(c->n, c->peer);
    return NULL;
}

/* A started callback-mode node b on its recorder, and a started poll-mode
 * node a; b dials a when dial is set (*ba: b's handle of a). */
typedef struct pair {
    p2p_node *a, *b;
    recorder rb;
    uint64_t ba;
} pair;

static int pair_up(pair *p, int dial) {
    memset(p, 0, sizeof *p);
    rec_init(&p->rb, 4096);
    p->a = mk_node(NULL, NULL);
    p->b = mk_node(&p->rb, NULL);
    if (!p->a || !p->b) return -1;
    if (p2p_node_start(p->a) != P2P_OK || p2p_node_start(p->b) != P2P_OK) return -1;
    if (dial && p2p_node_connect(p->b, "127.0.0.1", node_port(p->a), 0, &p->ba) != P2P_OK) return -1;
    return 0;
}

static void pair_free(pair *p) {
    if (p->a) p2p_node_free(p->a);
    if (p->b) p2p_node_free(p->b);
    p->a = p->b = NULL;
    rec_destroy(&p->rb);
}

/* Polls a (poll mode) until a message with these bytes comes, or WAIT_MS. */
static int poll_for_message(p2p_node *a, const char *text) {
    p2p_event ev[16];
    int64_t until = h_now_ms() + WAIT_MS;
    while (h_now_ms() < until) {
        size_t n = 0;
        if (p2p_node_poll(a, ev, 16, 5, &n) != P2P_OK) return 0;
        for (size_t i = 0; i < n; i++)
            if (ev[i].type == P2P_EVENT_MESSAGE && ev[i].data_len == strlen(text) &&
                memcmp(ev[i].data, text, ev[i].data_len) == 0)
                return 1;
    }
    return 0;
}

/* Drains a stopping poll-mode node until P2P_ESTOPPED; counts its events. */
static int drain_to_stopped(p2p_node *a, size_t *requests, size_t *messages) {
    p2p_event ev[64];
    int64_t until = h_now_ms() + WAIT_MS;
    while (h_now_ms() < until) {
        size_t n = 0;
        int rc = p2p_node_poll(a, ev, 64, 5, &n);
        if (rc == P2P_ESTOPPED) return 1;
        if (rc != P2P_OK) return 0;
        for (size_t i = 0; i < n; i++) {
            if (ev[i].type == P2P_EVENT_REQUEST_TO_STOP) (*requests)++;
            if (ev[i].type == P2P_EVENT_MESSAGE) (*messages)++;
        }
    }
    return 0;
}

/* ---- 6. stop never waits for a poller that is not there ------------------------ */

void test_stop_nobody_polls(void) {
    pair p;
    call c = {0};
    size_t requests = 0, messages = 0;
    REQUIRE(pair_up(&p, 0) == 0);
    /* no peers, no callback, never polled */
    c.n = p.a;
    CHECKF(run_bounded(do_stop, &c), "p2p_node_stop of a node nobody polls did not return");
    CHECK_RC(c.rc, P2P_OK);
    /* its last events wait for a poll before the free */
    CHECK(drain_to_stopped(p.a, &requests, &messages));
    CHECK(requests == 1);
    /* the other node is untouched */
    CHECK(peer_count(p.b, P2P_ALL) == 0);
out:
    pair_free(&p);
}

void test_stop_nobody_polls_full_queue(void) {
    pair p;
    call c = {0};
    size_t requests = 0, messages = 0;
    memset(&p, 0, sizeof p);
    rec_init(&p.rb, 4096);
    REQUIRE((p.a = mk_node(NULL, NULL)) != NULL && (p.b = mk_node(&p.rb, NULL)) != NULL);
    CHECK_RC(p2p_node_set_limit(p.a, P2P_LIMIT_MAX_PENDING_EVENTS, 4), P2P_OK);
    REQUIRE(p2p_node_start(p.a) == P2P_OK && p2p_node_start(p.b) == P2P_OK);
    REQUIRE(p2p_node_connect(p.b, "127.0.0.1", node_port(p.a), 0, &p.ba) == P2P_OK);
    /* b sends far more than a's queue holds while nobody polls a */
    for (int i = 0; i < 64; i++) CHECK_RC(p2p_node_send(p.b, p.ba, "msg", 3, P2P_COMPRESSION_NONE), P2P_OK);
    /* a has read more than its queue holds: its event thread waits for room */
    p2p_counters k;
    CHECK(WAIT_UNTIL(p2p_node_counters(p.a, &k) == P2P_OK && k.received >= 5));
    c.n = p.a;
    CHECKF(run_bounded(do_stop, &c), "p2p_node_stop with a full poll queue and nobody polling did not return");
    CHECK_RC(c.rc, P2P_OK);
    CHECK(drain_to_stopped(p.a, &requests, &messages));
    CHECK(requests == 1);
    CHECKF(messages >= 4, "%zu messages polled after the stop", messages);
    CHECK(WAIT_UNTIL(rec_count(&p.rb, P2P_EVENT_OUTBOUND_DISCONNECTED) == 1));
out:
    pair_free(&p);
}

void test_disconnect_nobody_polls(void) {
    pair p;
    call c = {0};
    uint64_t ab = 0;
    REQUIRE(pair_up(&p, 0) == 0);
    /* a (poll mode, never polled) dials b; dropping that outbound peer
     * raises DISCONNECT_WITH_OUTBOUND, which must not wait for a poller */
    REQUIRE(p2p_node_connect(p.a, "127.0.0.1", node_port(p.b), 0, &ab) == P2P_OK);
    c.n = p.a;
    c.peer = ab;
    CHECKF(run_bounded(do_disconnect, &c), "p2p_node_disconnect on a node nobody polls did not return");
    CHECK_RC(c.rc, P2P_OK);
    CHECK(WAIT_UNTIL(rec_count(&p.rb, P2P_EVENT_INBOUND_DISCONNECTED) == 1));
    /* a poller that comes later still sees every event, in order */
    p2p_event ev[16];
    size_t n = 0, seen = 0;
    int types[8] = {0};
    int64_t until = h_now_ms() + WAIT_MS;
    while (seen < 3 && h_now_ms() < until) {
        CHECK_RC(p2p_node_poll(p.a, ev, 16, 5, &n), P2P_OK);
        for (size_t i = 0; i < n && seen < 8; i++) types[seen++] = ev[i].type;
    }
    CHECK(seen >= 3);
    CHECK(types[0] == P2P_EVENT_OUTBOUND_CONNECTED);
    CHECK(types[1] == P2P_EVENT_DISCONNECT_WITH_OUTBOUND);
    CHECK(types[2] == P2P_EVENT_OUTBOUND_DISCONNECTED);
    /* and the node goes on: b dials it and a message arrives */
    REQUIRE(p2p_node_connect(p.b, "127.0.0.1", node_port(p.a), 0, &p.ba) == P2P_OK);
    CHECK_RC(p2p_node_send(p.b, p.ba, "still here", 10, P2P_COMPRESSION_NONE), P2P_OK);
    CHECK(poll_for_message(p.a, "still here"));
out:
    pair_free(&p);
}

/* ---- 7. lengths over the limits: refused before a byte is read ----------------- */

void test_huge_lengths_not_read(void) {
    pair p;
    /* Memory that faults on any read: a call that touched a byte of it
     * would crash the test. */
    size_t guard = 1 << 16;
    void *none = mmap(NULL, guard, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(none != MAP_FAILED);
    REQUIRE(pair_up(&p, 1) == 0);
    uint64_t ab = 0;
    p2p_event ev[8];
    size_t n = 0;
    /* a's handle of b: from the INBOUND_CONNECTED event */
    int64_t until = h_now_ms() + WAIT_MS;
    while (ab == 0 && h_now_ms() < until) {
        CHECK_RC(p2p_node_poll(p.a, ev, 8, 5, &n), P2P_OK);
        for (size_t i = 0; i < n; i++)
            if (ev[i].type == P2P_EVENT_INBOUND_CONNECTED) ab = ev[i].peer;
    }
    REQUIRE(ab != 0);
    size_t huge[] = {(size_t)1 << 40, SIZE_MAX, (size_t)1 << 63, (64u << 20) + 1};
    for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
        for (int c = P2P_COMPRESSION_NONE; c <= P2P_COMPRESSION_LZMA; c++) {
            CHECK_RC(p2p_node_send(p.b, p.ba, none, huge[i], c), P2P_ETOOBIG);
            CHECK_RC(p2p_node_broadcast(p.b, none, huge[i], NULL, 0, c), P2P_ETOOBIG);
        }
    }
    /* a batch is cut before the first message over the limit */
    static char bytes[] = "abcde";
    size_t lens[2] = {5, (size_t)1 << 40}, sent = 99;
    CHECK_RC(p2p_node_send_batch(p.b, p.ba, bytes, lens, 2, P2P_COMPRESSION_NONE, &sent), P2P_ETOOBIG);
    CHECK(sent == 1);
    CHECK(strstr(p2p_errmsg(), "message 1") != NULL);
    CHECK(poll_for_message(p.a, "abcde"));
    lens[0] = SIZE_MAX;
    CHECK_RC(p2p_node_send_batch(p.b, p.ba, none, lens, 2, P2P_COMPRESSION_ZLIB, &sent), P2P_ETOOBIG);
    CHECK(sent == 0);
    /* at a small limit, one byte over it is refused unread, the limit itself sent */
    p2p_node *c = mk_node(NULL, NULL);
    uint64_t cb = 0;
    REQUIRE(c != NULL);
    CHECK_RC(p2p_node_set_limit(c, P2P_LIMIT_MAX_FRAME_SIZE, 4096), P2P_OK);
    CHECK_RC(p2p_node_set_limit(c, P2P_LIMIT_MAX_DECOMPRESSED_SIZE, 4096), P2P_OK);
    CHECK_RC(p2p_node_start(c), P2P_OK);
    CHECK_RC(p2p_node_connect(c, "127.0.0.1", node_port(p.b), 0, &cb), P2P_OK);
    CHECK_RC(p2p_node_send(c, cb, none, 4097, P2P_COMPRESSION_NONE), P2P_ETOOBIG);
    CHECK_RC(p2p_node_send(c, cb, none, 4097, P2P_COMPRESSION_BZIP2), P2P_ETOOBIG);
    char *max = malloc(4096);
    memset(max, 'y', 4096);
    CHECK_RC(p2p_node_send(c, cb, max, 4096, P2P_COMPRESSION_NONE), P2P_OK);
    CHECK(WAIT_UNTIL(rec_count_msg(&p.rb, max, 4096) == 1));
    free(max);
    p2p_node_free(c);
    /* the pair still talks */
    CHECK_RC(p2p_node_send(p.b, p.ba, "after", 5, P2P_COMPRESSION_NONE), P2P_OK);
    CHECK(poll_for_message(p.a, "after"));
    CHECK_RC(p2p_node_send(p.a, ab, "back", 4, P2P_COMPRESSION_NONE), P2P_OK);
    CHECK(WAIT_UNTIL(rec_count_msg(&p.rb, "back", 4) == 1));
out:
    pair_free(&p);
    if (none != MAP_FAILED) munmap(none, guard);
}

/* ---- 8. limit values the core cannot hold -------------------------------------- */

void test_limit_value_ranges(void) {
    static const int ms[] = {P2P_LIMIT_HANDSHAKE_TIMEOUT_MS, P2P_LIMIT_DIAL_TIMEOUT_MS, P2P_LIMIT_SEND_TIMEOUT_MS,
                             P2P_LIMIT_RECONNECT_INTERVAL_MS};
    const int64_t max_ms = INT64_MAX / 1000000; /* 9223372036854 */
    const int64_t over[] = {max_ms + 1, 18446744073710LL, INT64_MAX};
    p2p_node *n = mk_node(NULL, NULL);
    int64_t v = 0;
    REQUIRE(n != NULL);
    for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++) {
        CHECK_RC(p2p_node_set_limit(n, ms[i], 1234), P2P_OK);
        for (size_t j = 0; j < sizeof over / sizeof over[0]; j++) {
            CHECK_RC(p2p_node_set_limit(n, ms[i], over[j]), P2P_EINVAL);
            CHECK(strstr(p2p_errmsg(), "ms") != NULL);
            CHECK_RC(p2p_node_get_limit(n, ms[i], &v), P2P_OK);
            CHECKF(v == 1234, "limit %d reads %lld after a refused %lld", ms[i], (long long)v, (long long)over[j]);
        }
        CHECK_RC(p2p_node_set_limit(n, ms[i], max_ms), P2P_OK);
        CHECK_RC(p2p_node_get_limit(n, ms[i], &v), P2P_OK);
        CHECKF(v == max_ms, "limit %d reads %lld, set %lld", ms[i], (long long)v, (long long)max_ms);
    }
    /* counts: the largest int64_t is a valid value where int is 64 bits */
    static const int counts[] = {P2P_LIMIT_MAX_CONNECTIONS, P2P_LIMIT_MAX_FRAME_SIZE, P2P_LIMIT_MAX_DECOMPRESSED_SIZE,
                                 P2P_LIMIT_MAX_QUEUED_BYTES, P2P_LIMIT_MAX_PENDING_EVENTS};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        int64_t big = sizeof(void *) == 8 ? INT64_MAX : INT32_MAX;
        CHECK_RC(p2p_node_set_limit(n, counts[i], big), P2P_OK);
        CHECK_RC(p2p_node_get_limit(n, counts[i], &v), P2P_OK);
        CHECK(v == big);
        if (sizeof(void *) == 4) CHECK_RC(p2p_node_set_limit(n, counts[i], (int64_t)INT32_MAX + 1), P2P_EINVAL);
        CHECK_RC(p2p_node_set_limit(n, counts[i], 0), P2P_OK);
    }
    /* the handshake timeout really is what was set: a silent socket is
     * dropped neither at once (as an overflowed ~0.45 ms would) nor never */
    CHECK_RC(p2p_node_set_limit(n, P2P_LIMIT_HANDSHAKE_TIMEOUT_MS, 0), P2P_OK);
    CHECK_RC(p2p_node_get_limit(n, P2P_LIMIT_HANDSHAKE_TIMEOUT_MS, &v), P2P_OK);
    CHECK(v == 10000);
    /* the secure node's durations too */
    p2p_secure_config cfg;
    p2p_node *s = NULL;
    memset(&cfg, 0, sizeof cfg);
    cfg.replay_window_ms = max_ms + 1;
    CHECK_RC(p2p_secure_node_new("127.0.0.1", 0, NULL, 0, &cfg, &s), P2P_EINVAL);
    CHECK(s == NULL);
    cfg.replay_window_ms = 0;
    cfg.max_clock_skew_ms = INT64_MAX;
    CHECK_RC(p2p_secure_node_new("127.0.0.1", 0, NULL, 0, &cfg, &s), P2P_EINVAL);
    cfg.max_clock_skew_ms = max_ms;
    CHECK_RC(p2p_secure_node_new("127.0.0.1", 0, NULL, 0, &cfg, &s), P2P_OK);
    if (s) p2p_node_free(s);
out:
    if (n) p2p_node_free(n);
}

/* ---- 9. any size_t is a valid poll size ---------------------------------------- */

void test_poll_max_any_size(void) {
    pair p;
    p2p_event ev[16];
    const uint8_t *data = NULL;
    size_t len = 0;
    REQUIRE(pair_up(&p, 1) == 0);
    size_t sizes[] = {SIZE_MAX, (size_t)1 << 63, ((size_t)1 << 63) + 1, (size_t)1 << 32, (size_t)INT_MAX + 1};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char text[32];
        snprintf(text, sizeof text, "size %zu", i);
        CHECK_RC(p2p_node_send(p.b, p.ba, text, strlen(text), P2P_COMPRESSION_NONE), P2P_OK);
        int got = 0;
        int64_t until = h_now_ms() + WAIT_MS;
        while (!got && h_now_ms() < until) {
            size_t n = 0;
            /* at most 16 events are ready at any time here, so ev is big enough */
            int rc = i % 2 ? p2p_node_poll_batch(p.a, ev, sizes[i], 5, &n, &data, &len)
                           : p2p_node_poll(p.a, ev, sizes[i], 5, &n);
            CHECK_RC(rc, P2P_OK);
            if (rc != P2P_OK) break;
            for (size_t j = 0; j < n; j++)
                if (ev[j].type == P2P_EVENT_MESSAGE && ev[j].data_len == strlen(text) &&
                    !memcmp(ev[j].data, text, ev[j].data_len))
                    got = 1;
        }
        CHECKF(got, "no message polled with max %zu", sizes[i]);
    }
out:
    pair_free(&p);
}

/* ---- 10. poll-mode handles live until their disconnected event is polled ------- */

void test_poll_handles_outlive_peer(void) {
    pair p;
    p2p_event ev[64];
    char id[P2P_MAX_ID_LEN + 1], bid[P2P_MAX_ID_LEN + 1];
    size_t n = 0, seen = 0;
    uint64_t gone = 0;
    int got_disc = 0;
    REQUIRE(pair_up(&p, 1) == 0);
    REQUIRE(h_node_id(p.b, bid, sizeof bid) == P2P_OK);
    for (int i = 0; i < 3; i++) CHECK_RC(p2p_node_send(p.b, p.ba, "bye", 3, P2P_COMPRESSION_NONE), P2P_OK);
    CHECK_RC(p2p_node_disconnect(p.b, p.ba), P2P_OK);
    /* a has let b go before anyone polls a */
    CHECK(WAIT_UNTIL(peer_count(p.a, P2P_ALL) == 0));
    int64_t until = h_now_ms() + WAIT_MS;
    while (!got_disc && h_now_ms() < until) {
        CHECK_RC(p2p_node_poll(p.a, ev, 64, 5, &n), P2P_OK);
        /* every event of this batch names a peer whose handle still works */
        for (size_t i = 0; i < n; i++) {
            if (ev[i].peer == 0) continue;
            seen++;
            gone = ev[i].peer;
            CHECK_RC(h_peer_id(p.a, ev[i].peer, id, sizeof id), P2P_OK);
            CHECK(strcmp(id, bid) == 0 && strcmp(id, ev[i].peer_id) == 0);
            int port = 0, dir = -1;
            CHECK_RC(p2p_peer_port(p.a, ev[i].peer, &port), P2P_OK);
            CHECK(port == node_port(p.b));
            CHECK_RC(p2p_peer_direction(p.a, ev[i].peer, &dir), P2P_OK);
            CHECK(dir == P2P_INBOUND);
            /* the peer has gone: a send says so */
            CHECK_RC(p2p_node_send(p.a, ev[i].peer, "x", 1, P2P_COMPRESSION_NONE), P2P_ENOPEER);
            if (ev[i].type == P2P_EVENT_INBOUND_DISCONNECTED) got_disc = 1;
        }
    }
    CHECK(got_disc);
    CHECKF(seen >= 5, "%zu peer events (connected, 3 messages, disconnected)", seen);
    /* the next poll ends the handle */
    CHECK_RC(p2p_node_poll(p.a, ev, 64, 0, &n), P2P_OK);
    CHECK_RC(h_peer_id(p.a, gone, id, sizeof id), P2P_ENOPEER);
    /* and the node goes on */
    CHECK(WAIT_UNTIL(peer_count(p.b, P2P_ALL) == 0));
    REQUIRE(p2p_node_connect(p.b, "127.0.0.1", node_port(p.a), 0, &p.ba) == P2P_OK);
    CHECK_RC(p2p_node_send(p.b, p.ba, "again", 5, P2P_COMPRESSION_NONE), P2P_OK);
    CHECK(poll_for_message(p.a, "again"));
out:
    pair_free(&p);
}

/* ---- 11. freed nodes leave a few bytes; forked children fail fast -------------- */

static long rss_kb(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, resident = 0;
    if (!f) return -1;
    if (fscanf(f, "%ld %ld", &size, &resident) != 2) resident = -1;
    fclose(f);
    return resident < 0 ? -1 : resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static int cycle(int poll) {
    p2p_node *n = NULL;
    recorder r; /* callback mode: gets REQUEST_TO_STOP */
    int rc = -1, port = 0;
    rec_init(&r, 4);
    if (p2p_node_new("127.0.0.1", 0, NULL, 0, &n) != P2P_OK) goto done;
    if (!poll) p2p_node_set_callback(n, rec_callback, &r);
    if (p2p_node_start(n) != P2P_OK || p2p_node_free(n) != P2P_OK) goto done;
    if (p2p_node_port(n, &port) != P2P_EHANDLE) goto done;
    rc = 0;
done:
    rec_destroy(&r);
    return rc;
}

void test_freed_nodes_leave_little(void) {
    const int warm = 2000, cycles = 10000;
    int bad = 0;
    for (int i = 0; i < warm; i++) bad |= cycle(i % 2);
    long before = rss_kb();
    for (int i = 0; i < cycles; i++) bad |= cycle(i % 2);
    long after = rss_kb();
    CHECK(!bad);
    CHECK(before > 0 && after > 0);
    long per_cycle = (after - before) * 1024 / cycles;
    printf("    RSS %ld kB -> %ld kB over %d create/start/free cycles: %ld bytes per cycle\n", before, after, cycles,
           per_cycle);
    /* a tombstone is a few dozen bytes; the whole node was ~4 kB */
    CHECKF(per_cycle < 512, "%ld bytes of RSS per cycle", per_cycle);
    /* nodes still work */
    pair p;
    REQUIRE(pair_up(&p, 1) == 0);
    CHECK_RC(p2p_node_send(p.b, p.ba, "alive", 5, P2P_COMPRESSION_NONE), P2P_OK);
    CHECK(poll_for_message(p.a, "alive"));
out:
    pair_free(&p);
}

/* What the child checks; its exit status is the number of calls that did
 * not return P2P_EFORK. */
static int child_calls(pair *p) {
    int wrong = 0;
    p2p_counters cnt;
    p2p_event ev[4];
    size_t n = 0;
    char buf[64];
    p2p_node *fresh = (p2p_node *)1;
#define WANT_EFORK(expr)                                                                  \
    do {                                                                                  \
        int rc_ = (expr);                                                                 \
        if (rc_ != P2P_EFORK) {                                                           \
            wrong++;                                                                      \
            fprintf(stderr, "    child: %s returned %d, want P2P_EFORK\n", #expr, rc_); \
        }                                                                                 \
    } while (0)
    WANT_EFORK(p2p_node_send(p->b, p->ba, "x", 1, P2P_COMPRESSION_NONE));
    WANT_EFORK(p2p_node_counters(p->b, &cnt));
    WANT_EFORK(h_node_id(p->a, buf, sizeof buf));
    WANT_EFORK(p2p_node_poll(p->a, ev, 4, -1, &n));
    WANT_EFORK(p2p_node_connect(p->b, "127.0.0.1", node_port(p->a), 0, NULL));
    WANT_EFORK(p2p_node_stop(p->a));
    WANT_EFORK(p2p_node_free(p->b));
    WANT_EFORK(p2p_node_new("127.0.0.1", 0, NULL, 0, &fresh));
    if (fresh != NULL) wrong++;
    WANT_EFORK(p2p_secure_check_message("{}", 2, NULL));
    if (!strstr(p2p_errmsg(), "fork")) wrong++;
    if (strcmp(p2p_strerror(P2P_EFORK), "the library cannot be used in a forked child process") != 0) wrong++;
#undef WANT_EFORK
    return wrong;
}

void test_forked_child_fails_fast(void) {
    pair p;
    REQUIRE(pair_up(&p, 1) == 0);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) _exit(child_calls(&p));
    int status = 0, done = 0;
    int64_t until = h_now_ms() + WAIT_MS;
    while (!done && h_now_ms() < until) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) done = 1;
        else h_nap();
    }
    if (!done) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
    }
    CHECKF(done, "the forked child's calls hung");
    CHECKF(done && WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
    /* the parent's nodes are untouched */
    CHECK_RC(p2p_node_send(p.b, p.ba, "parent", 6, P2P_COMPRESSION_NONE), P2P_OK);
    CHECK(poll_for_message(p.a, "parent"));
out:
    pair_free(&p);
}

/* ---- release: freeing while another thread polls ------------------------------- */

typedef struct poller_run {
    p2p_node *n;
    int bad, polls;
} poller_run;

static void *keep_polling(void *arg) {
    poller_run *r = arg;
    p2p_event ev[8];
    size_t n;
    for (;;) {
        int rc = p2p_node_poll(r->n, ev, 8, 1, &n);
        r->polls++;
        if (rc == P2P_EHANDLE) return NULL;
        if (rc != P2P_OK && rc != P2P_ESTOPPED) {
            r->bad++;
            return NULL;
        }
    }
}

void test_free_while_polling(void) {
    for (int i = 0; i < 20; i++) {
        pair p;
        poller_run r = {0};
        pthread_t t;
        REQUIRE(pair_up(&p, 1) == 0);
        r.n = p.a;
        REQUIRE(pthread_create(&t, NULL, keep_polling, &r) == 0);
        CHECK_RC(p2p_node_send(p.b, p.ba, "x", 1, P2P_COMPRESSION_NONE), P2P_OK);
        WAIT_UNTIL(r.polls > 2);
        CHECK_RC(p2p_node_free(p.a), P2P_OK);
        p.a = NULL;
        pthread_join(t, NULL);
        CHECK(r.bad == 0);
    out:
        pair_free(&p);
    }
}

/* ---- The core's accounting through the C ABI (issue 16, part B) ----------------- */

/* A raw p2pnetwork client of node port that says its id, reads the
 * node's, and then never reads again (a tiny receive buffer). */
static int raw_non_reader(int port) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) return -1;
    int small = 4096;
    setsockopt(s, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    char buf[256];
    if (connect(s, (struct sockaddr *)&sa, sizeof sa) != 0 || send(s, "raw-sink:4321", 13, 0) != 13 ||
        recv(s, buf, sizeof buf, 0) <= 0) {
        close(s);
        return -1;
    }
    return s;
}

/* The handle of a's only peer, once there is one. */
static uint64_t only_peer(p2p_node *a) {
    uint64_t h = 0;
    size_t n = 0;
    WAIT_UNTIL(h_node_peers(a, P2P_ALL, &h, 1, &n) == P2P_OK && n == 1);
    return n == 1 ? h : 0;
}

static int counters_balance(const p2p_counters *c) {
    return c->accepted == c->written + c->dropped_overflow + c->dropped_link_lost + c->dropped_stop + c->queued &&
           c->sent == c->accepted;
}

static p2p_counters peer_counters_of(p2p_node *n, uint64_t peer) {
    p2p_counters c;
    memset(&c, 0xff, sizeof c);
    if (p2p_peer_counters(n, peer, &c) != P2P_OK) memset(&c, 0xff, sizeof c);
    return c;
}

static p2p_counters node_counters_of(p2p_node *n) {
    p2p_counters c;
    memset(&c, 0xff, sizeof c);
    if (p2p_node_counters(n, &c) != P2P_OK) memset(&c, 0xff, sizeof c);
    return c;
}

void test_counters_add_up(void) {
    pair p;
    p2p_counters c;
    REQUIRE(pair_up(&p, 1) == 0);
    uint64_t bytes = 0;
    for (int i = 0; i < 100; i++) {
        char m[16];
        int len = snprintf(m, sizeof m, "m%03d", i);
        CHECK_RC(p2p_node_send(p.b, p.ba, m, (size_t)len, P2P_COMPRESSION_NONE), P2P_OK);
        bytes += (uint64_t)len + 1; /* EOT */
    }
    CHECK(poll_for_message(p.a, "m099"));
    /* b: everything accepted is written, once the queue is empty */
    CHECK(WAIT_UNTIL((c = node_counters_of(p.b)).queued == 0 && c.written == 100));
    CHECK(c.accepted == 100 && c.sent == 100 && c.accepted_bytes == bytes && c.written_bytes == bytes);
    CHECK(c.dropped_overflow + c.dropped_link_lost + c.dropped_stop + c.dropped_bytes + c.refused == 0);
    CHECK(counters_balance(&c));
    c = peer_counters_of(p.b, p.ba);
    CHECK(c.accepted == 100 && c.written == 100 && c.queued == 0 && c.written_bytes == bytes);
    CHECK(c.handshakes_evicted == 0 && c.rejected == 0);
    /* a: what arrived */
    uint64_t ab = only_peer(p.a);
    REQUIRE(ab != 0);
    c = node_counters_of(p.a);
    CHECK(c.received == 100 && c.received_bytes == bytes && c.receive_errors == 0);
    c = peer_counters_of(p.a, ab);
    CHECK(c.received == 100 && c.received_bytes == bytes);
    CHECK_RC(p2p_peer_counters(p.a, ab, NULL), P2P_EINVAL);
    CHECK_RC(p2p_peer_counters(p.a, 999999, &c), P2P_ENOPEER);
out:
    pair_free(&p);
}

/* Sends to a peer that does not read, never more than its queue (max
 * bytes) takes, until nothing more is written: 50 looks in a row without
 * progress with the queue not empty. */
static void fill_unread(p2p_node *a, uint64_t peer, const char *msg, size_t len, uint64_t max) {
    int still = 0;
    int64_t until = h_now_ms() + WAIT_MS;
    while (still < 50 && h_now_ms() < until) {
        p2p_counters c0 = peer_counters_of(a, peer);
        if (c0.queued_bytes + len + 1 <= max) {
            CHECK_RC(p2p_node_send(a, peer, msg, len, P2P_COMPRESSION_NONE), P2P_OK);
            still = 0;
            continue;
        }
        h_nap();
        p2p_counters c1 = peer_counters_of(a, peer);
        still = c1.written == c0.written && c1.queued > 0 ? still + 1 : 0;
    }
    CHECK(still >= 50);
}

/* Fills the queue of a's raw non-reading peer under one overflow policy. */
static void run_overflow(int policy) {
    recorder r;
    p2p_node *a = NULL, *c = NULL;
    int s = -1;
    rec_init(&r, 1024);
    REQUIRE((a = mk_node(&r, NULL)) != NULL);
    CHECK_RC(p2p_node_set_limit(a, P2P_LIMIT_OVERFLOW_POLICY, policy), P2P_OK);
    CHECK_RC(p2p_node_set_limit(a, P2P_LIMIT_MAX_QUEUED_BYTES, 64 << 10), P2P_OK);
    CHECK_RC(p2p_node_set_limit(a, P2P_LIMIT_SEND_TIMEOUT_MS, 600000), P2P_OK); /* no stall disconnect */
    REQUIRE(p2p_node_start(a) == P2P_OK);
    REQUIRE((s = raw_non_reader(node_port(a))) >= 0);
    uint64_t sink = only_peer(a);
    REQUIRE(sink != 0);
    static char msg[16 << 10];
    memset(msg, 'q', sizeof msg);
    int rc = P2P_OK;
    int64_t until = h_now_ms() + WAIT_MS;
    p2p_counters k = node_counters_of(a);
    if (policy == P2P_OVERFLOW_DISCONNECT) {
        /* Fill the socket's buffers first without ever going over the
         * queue (the first overflow disconnects): then the queue cannot
         * drain, and the overflow below has something to drop. */
        fill_unread(a, sink, msg, sizeof msg, 64 << 10);
    }
    while (h_now_ms() < until) {
        rc = p2p_node_send(a, sink, msg, sizeof msg, P2P_COMPRESSION_NONE);
        if (rc != P2P_OK) break;
        if (policy == P2P_OVERFLOW_DROP_OLDEST && (k = node_counters_of(a)).dropped_overflow > 0) break;
    }
    switch (policy) {
    case P2P_OVERFLOW_DROP_NEWEST:
        CHECK_RC(rc, P2P_EFULL);
        k = node_counters_of(a);
        CHECK(k.refused >= 1 && k.dropped_overflow == 0);
        CHECK(peer_count(a, P2P_ALL) == 1); /* still connected */
        CHECK(peer_counters_of(a, sink).refused >= 1);
        break;
    case P2P_OVERFLOW_DROP_OLDEST:
        CHECK_RC(rc, P2P_OK);
        CHECK(k.dropped_overflow > 0 && k.dropped_bytes >= k.dropped_overflow * (sizeof msg + 1));
        CHECK(peer_count(a, P2P_ALL) == 1);
        CHECK(WAIT_UNTIL((k = node_counters_of(a), counters_balance(&k))));
        break;
    case P2P_OVERFLOW_DISCONNECT:
        CHECK_RC(rc, P2P_EFULL);
        CHECK(WAIT_UNTIL(rec_count(&r, P2P_EVENT_INBOUND_DISCONNECTED) == 1));
        k = node_counters_of(a);
        const rec_event *e = rec_nth(&r, P2P_EVENT_INBOUND_DISCONNECTED, 0);
        CHECK(e && e->dropped > 0 && e->dropped == k.dropped_overflow + k.dropped_link_lost);
        CHECK(e && e->dropped_bytes == k.dropped_bytes);
        CHECK(k.dropped_overflow > 0 && counters_balance(&k) && k.queued == 0);
        break;
    }
    /* a well-behaved peer still gets a's messages */
    uint64_t ac = 0;
    REQUIRE((c = mk_node(NULL, NULL)) != NULL && p2p_node_start(c) == P2P_OK);
    REQUIRE(p2p_node_connect(a, "127.0.0.1", node_port(c), 0, &ac) == P2P_OK);
    CHECK_RC(p2p_node_send(a, ac, "fine", 4, P2P_COMPRESSION_NONE), P2P_OK);
    CHECK(poll_for_message(c, "fine"));
out:
    if (s >= 0) close(s);
    if (a) p2p_node_free(a);
    if (c) p2p_node_free(c);
    rec_destroy(&r);
}

void test_overflow_drop_newest(void) { run_overflow(P2P_OVERFLOW_DROP_NEWEST); }
void test_overflow_drop_oldest(void) { run_overflow(P2P_OVERFLOW_DROP_OLDEST); }
void test_overflow_disconnect(void) { run_overflow(P2P_OVERFLOW_DISCONNECT); }

/* A stop with data a peer does not read: bounded by P2P_LIMIT_STOP_TIMEOUT_MS,
 * and what it dropped is in the counters and the disconnected event. */
void test_stop_reports_undelivered(void) {
    recorder r;
    p2p_node *a = NULL;
    int s = -1;
    call c = {0};
    rec_init(&r, 1024);
    REQUIRE((a = mk_node(&r, NULL)) != NULL);
    CHECK_RC(p2p_node_set_limit(a, P2P_LIMIT_MAX_QUEUED_BYTES, 64 << 10), P2P_OK);
    CHECK_RC(p2p_node_set_limit(a, P2P_LIMIT_OVERFLOW_POLICY, P2P_OVERFLOW_DROP_NEWEST), P2P_OK);
    CHECK_RC(p2p_node_set_limit(a, P2P_LIMIT_SEND_TIMEOUT_MS, 600000), P2P_OK);
    CHECK_RC(p2p_node_set_limit(a, P2P_LIMIT_STOP_TIMEOUT_MS, 200), P2P_OK);
    REQUIRE(p2p_node_start(a) == P2P_OK);
    REQUIRE((s = raw_non_reader(node_port(a))) >= 0);
    uint64_t sink = only_peer(a);
    REQUIRE(sink != 0);
    static char msg[16 << 10];
    memset(msg, 's', sizeof msg);
    /* send until the queue is full and nothing more is written (the
     * socket's buffers are full too): 50 looks in a row without progress */
    int rc = P2P_OK, still = 0;
    int64_t until = h_now_ms() + WAIT_MS;
    p2p_counters k;
    while (still < 50 && h_now_ms() < until) {
        rc = p2p_node_send(a, sink, msg, sizeof msg, P2P_COMPRESSION_NONE);
        if (rc != P2P_EFULL) continue;
        uint64_t written = node_counters_of(a).written;
        h_nap();
        k = node_counters_of(a);
        still = k.written == written && k.queued > 0 ? still + 1 : 0;
    }
    CHECK_RC(rc, P2P_EFULL);
    k = node_counters_of(a);
    CHECK(k.queued > 0);
    c.n = a;
    CHECKF(run_bounded(do_stop, &c), "stop with an unread queue did not return");
    CHECK_RC(c.rc, P2P_OK);
    k = node_counters_of(a);
    CHECK(k.queued == 0 && counters_balance(&k));
    CHECKF(k.dropped_stop + k.dropped_link_lost > 0, "accepted %llu written %llu dropped overflow %llu link %llu stop %llu",
           (unsigned long long)k.accepted, (unsigned long long)k.written, (unsigned long long)k.dropped_overflow,
           (unsigned long long)k.dropped_link_lost, (unsigned long long)k.dropped_stop);
    const rec_event *e = rec_nth(&r, P2P_EVENT_INBOUND_DISCONNECTED, 0);
    CHECK(e != NULL);
    if (e) CHECK(e->dropped == k.dropped_stop + k.dropped_link_lost + k.dropped_overflow && e->dropped > 0);
out:
    if (s >= 0) close(s);
    if (a) p2p_node_free(a);
    rec_destroy(&r);
}

typedef struct blocked_send {
    p2p_node *n;
    uint64_t peer;
    int rc, started;
} blocked_send;

static void *send_until_blocked(void *arg) {
    blocked_send *b = arg;
    static char msg[16 << 10];
    memset(msg, 'w', sizeof msg);
    __atomic_store_n(&b->started, 1, __ATOMIC_SEQ_CST);
    int rc;
    while ((rc = p2p_node_send(b->n, b->peer, msg, sizeof msg, P2P_COMPRESSION_NONE)) == P2P_OK) {
    }
    __atomic_store_n(&b->rc, rc, __ATOMIC_SEQ_CST);
    return NULL;
}

/* A send that waits for room (P2P_OVERFLOW_WAIT, a send timeout far away)
 * returns once the node stops. */
void test_stop_wakes_blocked_send(void) {
    recorder r;
    p2p_node *a = NULL;
    int s = -1;
    pthread_t t;
    int joined = 0, made = 0;
    blocked_send b = {0};
    rec_init(&r, 1024);
    REQUIRE((a = mk_node(&r, NULL)) != NULL);
    CHECK_RC(p2p_node_set_limit(a, P2P_LIMIT_MAX_QUEUED_BYTES, 64 << 10), P2P_OK);
    CHECK_RC(p2p_node_set_limit(a, P2P_LIMIT_SEND_TIMEOUT_MS, 600000), P2P_OK);
    CHECK_RC(p2p_node_set_limit(a, P2P_LIMIT_STOP_TIMEOUT_MS, 100), P2P_OK);
    REQUIRE(p2p_node_start(a) == P2P_OK);
    REQUIRE((s = raw_non_reader(node_port(a))) >= 0);
    b.n = a;
    b.peer = only_peer(a);
    b.rc = 1;
    REQUIRE(b.peer != 0);
    REQUIRE(pthread_create(&t, NULL, send_until_blocked, &b) == 0);
    made = 1;
    /* the sender is blocked once the queue is full and nothing is written */
    int still = 0;
    int64_t until = h_now_ms() + WAIT_MS;
    while (still < 50 && h_now_ms() < until) {
        p2p_counters k0 = node_counters_of(a);
        h_nap();
        p2p_counters k1 = node_counters_of(a);
        still = k0.written == k1.written && k0.accepted == k1.accepted && k1.queued > 0 ? still + 1 : 0;
    }
    CHECK(still >= 50);
    CHECK(__atomic_load_n(&b.rc, __ATOMIC_SEQ_CST) == 1); /* still in its send */
    call c = {a, 0, 0};
    CHECKF(run_bounded(do_stop, &c), "stop did not return");
    CHECK(WAIT_UNTIL(__atomic_load_n(&b.rc, __ATOMIC_SEQ_CST) != 1));
    int rc = __atomic_load_n(&b.rc, __ATOMIC_SEQ_CST);
    CHECKF(rc == P2P_ESTOPPED || rc == P2P_ENOPEER, "the blocked send returned %d", rc);
    if (rc != 1) {
        pthread_join(t, NULL);
        joined = 1;
    }
out:
    if (made && !joined) pthread_detach(t);
    if (s >= 0) close(s);
    if (a && (joined || !made)) p2p_node_free(a);
    rec_destroy(&r);
}

/* Any size_t is a valid capacity (only what is written is touched), and
 * what the library must copy is measured against its limit first. */
void test_any_capacity_and_copy_limits(void) {
    pair p;
    size_t guard = 1 << 16;
    void *none = mmap(NULL, guard, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(none != MAP_FAILED);
    REQUIRE(pair_up(&p, 1) == 0);
    uint64_t list[4] = {0};
    size_t count = 0, len = 0;
    CHECK_RC(h_node_peers(p.b, P2P_ALL, list, SIZE_MAX, &count), P2P_OK);
    CHECK(count == 1 && list[0] == p.ba);
    char id[P2P_MAX_ID_LEN + 1];
    CHECK_RC(h_node_id(p.b, id, SIZE_MAX), P2P_OK);
    CHECK(strlen(id) == 128);
    CHECK_RC(h_peer_id(p.b, p.ba, id, (size_t)1 << 63), P2P_OK);
    char info[16] = {0};
    CHECK_RC(p2p_peer_set_info(p.b, p.ba, "k", "value", 5), P2P_OK);
    CHECK_RC(h_peer_get_info(p.b, p.ba, "k", info, SIZE_MAX, &len), P2P_OK);
    CHECK(len == 5 && memcmp(info, "value", 5) == 0);
    /* copies over their limits are refused unread */
    CHECK_RC(p2p_peer_set_info(p.b, p.ba, "k", none, (size_t)1 << 40), P2P_ETOOBIG);
    CHECK_RC(p2p_peer_set_info(p.b, p.ba, "k", none, SIZE_MAX), P2P_ETOOBIG);
    CHECK_RC(p2p_secure_check_message(none, (size_t)1 << 40, NULL), P2P_ETOOBIG);
    CHECK_RC(h_peer_get_info(p.b, p.ba, "k", info, sizeof info, &len), P2P_OK);
    CHECK(len == 5); /* the old value stays */
    /* counts no memory holds */
    size_t lens[1] = {1};
    CHECK_RC(p2p_node_broadcast(p.b, "x", 1, list, SIZE_MAX, P2P_COMPRESSION_NONE), P2P_EINVAL);
    CHECK_RC(p2p_node_send_batch(p.b, p.ba, "x", lens, SIZE_MAX, P2P_COMPRESSION_NONE, &count), P2P_EINVAL);
    /* ids and hosts are measured, up to their limit, before they are copied */
    size_t big = 1 << 20;
    char *s = malloc(big + 1);
    memset(s, 'h', big);
    s[big] = 0;
    p2p_node *n = (p2p_node *)1;
    CHECK_RC(p2p_node_new("127.0.0.1", 0, s, 0, &n), P2P_EINVAL);
    CHECK(n == NULL);
    CHECK_RC(p2p_node_new(s, 0, NULL, 0, &n), P2P_EINVAL);
    CHECK_RC(p2p_node_connect(p.b, s, 1, 0, NULL), P2P_EINVAL);
    free(s);
    /* and the pair still talks */
    CHECK_RC(p2p_node_send(p.b, p.ba, "ok", 2, P2P_COMPRESSION_NONE), P2P_OK);
    CHECK(poll_for_message(p.a, "ok"));
out:
    pair_free(&p);
    if (none != MAP_FAILED) munmap(none, guard);
}
