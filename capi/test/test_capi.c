/*
 * test_capi.c - tests of the p2pnode C ABI (include/p2pnode.h) against the
 * real libp2pnode.so, over loopback sockets on port 0.
 *
 *   test_capi                 run every test
 *   test_capi --subset        run the tests marked for the valgrind run
 *   test_capi NAME...         run the tests whose name contains a NAME
 *   test_capi --list          list the tests ("*" marks the subset)
 *
 * Prints "ok"/"FAIL" per test and finally "N passed, N failed"; exits 1 on a
 * failure. Waits are on conditions with deadlines (harness.h), never fixed
 * sleeps; nothing asserts timings.
 */
#include "harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fault_tests.h"
#include "secure_tests.h"
#include "v03_tests.h"
#include "native_tests.h"
#include "batchcb_tests.h"

#define NO_REPLY INT_MIN /* recorder answer: leave a polled question unanswered */

/* ---- Sides: a node with its recorder ------------------------------------- */

typedef struct side {
    p2p_node *n;
    recorder r;
    int poll; /* events through p2p_node_poll instead of a callback */
    char id[P2P_MAX_ID_LEN + 1];
    int port;
} side;

static int side_new(side *s, int poll, const char *id) {
    memset(s, 0, sizeof *s);
    rec_init(&s->r, 16384);
    s->poll = poll;
    s->n = mk_node(poll ? NULL : &s->r, id);
    if (!s->n) return -1;
    h_node_id(s->n, s->id, sizeof s->id);
    s->port = node_port(s->n);
    return 0;
}

static int side_start(side *s) { return p2p_node_start(s->n); }

static int side_up(side *s, int poll) {
    if (side_new(s, poll, NULL) != 0) return -1;
    return side_start(s);
}

static void side_free(side *s) {
    if (s->n) p2p_node_free(s->n);
    s->n = NULL;
    rec_destroy(&s->r);
}

/* Pumps a poll-mode side, then evaluates cond; for a callback side, waits. */
#define WAIT_SIDE(s, cond) ((s)->poll ? WAIT_POLL((s)->n, &(s)->r, cond) : WAIT_UNTIL(cond))

/* a dials b; *ab is a's handle of b, *ba b's handle of a (both may be NULL). */
static int link_sides(side *a, side *b, int reconnect, uint64_t *ab, uint64_t *ba) {
    size_t in0 = rec_count(&b->r, P2P_EVENT_INBOUND_CONNECTED);
    size_t out0 = rec_count(&a->r, P2P_EVENT_OUTBOUND_CONNECTED);
    uint64_t peer = 0;
    int rc = p2p_node_connect(a->n, "127.0.0.1", b->port, reconnect, &peer);
    if (rc != P2P_OK) {
        fprintf(stderr, "    connect: %d %s\n", rc, p2p_errmsg());
        return rc;
    }
    if (ab) *ab = peer;
    if (!WAIT_SIDE(b, rec_count(&b->r, P2P_EVENT_INBOUND_CONNECTED) > in0)) return -100;
    if (!WAIT_SIDE(a, rec_count(&a->r, P2P_EVENT_OUTBOUND_CONNECTED) > out0)) return -101;
    if (ba) *ba = rec_nth(&b->r, P2P_EVENT_INBOUND_CONNECTED, in0)->peer;
    return P2P_OK;
}

/* ---- Payloads ------------------------------------------------------------ */

typedef struct payload {
    const char *name;
    const unsigned char *data;
    size_t len;
    int kind;
    int raw; /* can travel as a raw frame (else NONE goes out zlib-compressed) */
} payload;

static const unsigned char P_TEXT[] = "hello, w\xc3\xb6rld: p2p";
static const unsigned char P_JSON[] = "{\"message\": \"hi\", \"n\": [1, 2.5, null, true]}";
static const unsigned char P_NUM[] = "123";
static const unsigned char P_BYTES[] = {0xff, 0xfe, 0x00, 0x80, 0x01, 0xc3};
static const unsigned char P_EOT[] = "ab\x04" "cd";
static const unsigned char P_STX[] = "tail\x02";
static const unsigned char P_MID_STX[] = "a\x02z";

static const payload PAYLOADS[] = {
    {"text", P_TEXT, sizeof P_TEXT - 1, P2P_KIND_TEXT, 1},
    {"json", P_JSON, sizeof P_JSON - 1, P2P_KIND_JSON, 1},
    {"json-number", P_NUM, sizeof P_NUM - 1, P2P_KIND_JSON, 1},
    {"bytes", P_BYTES, sizeof P_BYTES, P2P_KIND_BYTES, 1},
    {"empty", (const unsigned char *)"", 0, P2P_KIND_TEXT, 0},
    {"holding-0x04", P_EOT, sizeof P_EOT - 1, P2P_KIND_TEXT, 0},
    {"ending-0x02", P_STX, sizeof P_STX - 1, P2P_KIND_TEXT, 0},
    {"inner-0x02", P_MID_STX, sizeof P_MID_STX - 1, P2P_KIND_TEXT, 1},
};
#define N_PAYLOADS (sizeof PAYLOADS / sizeof PAYLOADS[0])
static const char *COMP_NAMES[] = {"none", "zlib", "bzip2", "lzma"};

/* Checks the last MESSAGE of r against what was sent. */
static void check_message(recorder *r, size_t nth, const payload *p, int comp, uint64_t peer,
                          const char *peer_id, int direction) {
    const rec_event *e = rec_nth(r, P2P_EVENT_MESSAGE, nth);
    CHECKF(e != NULL, "%s/%s: no message", p->name, COMP_NAMES[comp]);
    if (!e) return;
    int want_comp = comp == P2P_COMPRESSION_NONE && !p->raw ? P2P_COMPRESSION_ZLIB : comp;
    CHECKF(e->data_len == p->len, "%s/%s: len %zu want %zu", p->name, COMP_NAMES[comp], e->data_len, p->len);
    CHECKF(e->data != NULL, "%s/%s: data NULL", p->name, COMP_NAMES[comp]);
    if (e->data && e->data_len == p->len)
        CHECKF(memcmp(e->data, p->data, p->len) == 0, "%s/%s: bytes differ", p->name, COMP_NAMES[comp]);
    CHECKF(e->kind == p->kind, "%s/%s: kind %d want %d", p->name, COMP_NAMES[comp], e->kind, p->kind);
    CHECKF(e->compression == want_comp, "%s/%s: compression %d want %d", p->name, COMP_NAMES[comp],
           e->compression, want_comp);
    CHECKF(e->peer == peer, "%s/%s: peer %llu want %llu", p->name, COMP_NAMES[comp],
           (unsigned long long)e->peer, (unsigned long long)peer);
    CHECK(e->peer_id && strcmp(e->peer_id, peer_id) == 0);
    CHECK(e->peer_host && strcmp(e->peer_host, "127.0.0.1") == 0);
    CHECK(e->direction == direction);
    CHECK(e->reserved == 0);
}

/* Every payload, both ways (to an outbound and to an inbound peer). */
static void run_matrix(int poll, int comp) {
    side a, b;
    uint64_t ab = 0, ba = 0;
    REQUIRE(side_up(&a, poll) == 0 && side_up(&b, poll) == 0);
    REQUIRE(link_sides(&a, &b, 0, &ab, &ba) == P2P_OK);
    for (size_t i = 0; i < N_PAYLOADS; i++) {
        const payload *p = &PAYLOADS[i];
        CHECK_RC(p2p_node_send(a.n, ab, p->data, p->len, comp), P2P_OK);
        CHECKF(WAIT_SIDE(&b, rec_count(&b.r, P2P_EVENT_MESSAGE) > i), "b got no %s", p->name);
        check_message(&b.r, i, p, comp, ba, a.id, P2P_INBOUND);
        CHECK_RC(p2p_node_send(b.n, ba, p->data, p->len, comp), P2P_OK);
        CHECKF(WAIT_SIDE(&a, rec_count(&a.r, P2P_EVENT_MESSAGE) > i), "a got no %s", p->name);
        check_message(&a.r, i, p, comp, ab, b.id, P2P_OUTBOUND);
    }
out:
    side_free(&a);
    side_free(&b);
}

#define MATRIX(mode, poll, cname, comp) \
    static void test_message_##mode##_##cname(void) { run_matrix(poll, comp); }
MATRIX(callback, 0, none, P2P_COMPRESSION_NONE)
MATRIX(callback, 0, zlib, P2P_COMPRESSION_ZLIB)
MATRIX(callback, 0, bzip2, P2P_COMPRESSION_BZIP2)
MATRIX(callback, 0, lzma, P2P_COMPRESSION_LZMA)
MATRIX(poll, 1, none, P2P_COMPRESSION_NONE)
MATRIX(poll, 1, zlib, P2P_COMPRESSION_ZLIB)
MATRIX(poll, 1, bzip2, P2P_COMPRESSION_BZIP2)
MATRIX(poll, 1, lzma, P2P_COMPRESSION_LZMA)

/* Large messages (over the callback's 64 KiB copy buffer: handed in place). */
static void run_large(int poll) {
    side a, b;
    uint64_t ab = 0;
    size_t len = 300 * 1024;
    unsigned char *big = malloc(len);
    for (size_t i = 0; i < len; i++) {
        big[i] = (unsigned char)((i * 2654435761u) >> 13);
        if (big[i] == 0x02 || big[i] == 0x04) big[i] = 0xff; /* raw-framable, so NONE stays NONE */
    }
    REQUIRE(side_up(&a, 0) == 0 && side_up(&b, poll) == 0);
    REQUIRE(link_sides(&a, &b, 0, &ab, NULL) == P2P_OK);
    for (int c = 0; c < 4; c++) {
        big[0] = (unsigned char)(0xf0 + c);
        CHECK_RC(p2p_node_send(a.n, ab, big, len, c), P2P_OK);
        CHECK(WAIT_SIDE(&b, rec_count(&b.r, P2P_EVENT_MESSAGE) > (size_t)c));
        const rec_event *e = rec_nth(&b.r, P2P_EVENT_MESSAGE, (size_t)c);
        if (!e) continue;
        CHECK(e->data_len == len && memcmp(e->data, big, len) == 0);
        CHECK(e->compression == c);
        CHECK(e->kind == P2P_KIND_BYTES);
    }
out:
    free(big);
    side_free(&a);
    side_free(&b);
}
static void test_message_large_callback(void) { run_large(0); }
static void test_message_large_poll(void) { run_large(1); }

/* ---- Library functions ----------------------------------------------------- */

static void test_version(void) {
    CHECK(strcmp(p2p_version(), P2P_VERSION_STRING) == 0);
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", P2P_VERSION_MAJOR, P2P_VERSION_MINOR, P2P_VERSION_PATCH);
    CHECK(strcmp(p2p_version(), want) == 0);
}

static void test_strerror(void) {
    const char *seen[32];
    for (int code = 0; code >= P2P_EREFUSED; code--) {
        const char *s = p2p_strerror(code);
        CHECKF(s && *s, "code %d", code);
        seen[-code] = s;
        for (int j = 0; j < -code; j++) CHECKF(strcmp(seen[j], s) != 0, "codes %d and %d share a text", -j, code);
    }
    CHECK(strcmp(p2p_strerror(P2P_OK), "success") == 0);
    int unknown[] = {1, 42, P2P_EREFUSED - 1, -100, INT_MIN, INT_MAX};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        const char *s = p2p_strerror(unknown[i]);
        CHECK(s && strcmp(s, "unknown status code") == 0);
    }
    /* static and constant: same pointer twice */
    CHECK(p2p_strerror(P2P_EINVAL) == p2p_strerror(P2P_EINVAL));
}

static void *other_thread_errmsg(void *arg) {
    char *out = arg;
    snprintf(out, 256, "%s", p2p_errmsg());
    return NULL;
}

static void test_last_error(void) {
    p2p_node *n = NULL;
    CHECK_RC(p2p_node_new("127.0.0.1", -5, NULL, 0, &n), P2P_EINVAL);
    const char *msg = p2p_errmsg();
    CHECK(msg && strstr(msg, "-5") != NULL);
    CHECK(strlen(p2p_errmsg()) > 0);
    /* per thread: a new thread has no message */
    char other[256] = "unset";
    pthread_t t;
    pthread_create(&t, NULL, other_thread_errmsg, other);
    pthread_join(t, NULL);
    CHECKF(strcmp(other, "") == 0, "other thread saw \"%s\"", other);
}

/* A long message (over the 1023 bytes the shim keeps) is cut, not overflowed. */
static void test_last_error_long(void) {
    char host[P2P_MAX_HOST_LEN * 2];
    memset(host, 'h', sizeof host - 1);
    host[sizeof host - 1] = 0;
    p2p_node *n = NULL;
    int rc = p2p_node_new(host, 0, NULL, 0, &n);
    CHECK(rc != P2P_OK);
    CHECK(n == NULL);
    CHECK(strlen(p2p_errmsg()) > 0 && strlen(p2p_errmsg()) < 1024);
}

/* ---- Node life and facts ---------------------------------------------------- */

static int is_hex(const char *s) {
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f'))) return 0;
    return 1;
}

static void test_node_new(void) {
    p2p_node *n = NULL, *m = NULL;
    char buf[P2P_MAX_ID_LEN + 1];
    int port = 0;
    CHECK_RC(p2p_node_new("127.0.0.1", 0, NULL, 0, &n), P2P_OK);
    REQUIRE(n != NULL);
    CHECK_RC(h_node_id(n, buf, sizeof buf), P2P_OK);
    CHECK(strlen(buf) == 128 && is_hex(buf));
    CHECK_RC(p2p_node_port(n, &port), P2P_OK);
    CHECK(port > 0 && port <= 65535);
    CHECK_RC(h_node_host(n, buf, sizeof buf), P2P_OK);
    CHECK(strcmp(buf, "127.0.0.1") == 0);
    /* the port is bound at once: a second node on it gets EBIND */
    m = (p2p_node *)1;
    CHECK_RC(p2p_node_new("127.0.0.1", port, NULL, 0, &m), P2P_EBIND);
    CHECK(m == NULL);
    CHECK_RC(p2p_node_free(n), P2P_OK);
    n = NULL;
    /* given id, copied */
    char id[] = "my id: with spaces \xc3\xa9";
    CHECK_RC(p2p_node_new(NULL, 0, id, 0, &n), P2P_OK);
    REQUIRE(n != NULL);
    memset(id, 0, sizeof id);
    CHECK_RC(h_node_id(n, buf, sizeof buf), P2P_OK);
    CHECK(strcmp(buf, "my id: with spaces \xc3\xa9") == 0);
    /* host NULL listens on all interfaces and reads back as "" */
    CHECK_RC(h_node_host(n, buf, sizeof buf), P2P_OK);
    CHECK(strcmp(buf, "") == 0);
    CHECK_RC(p2p_node_free(n), P2P_OK);
    n = NULL;
    /* "" id generates one too */
    CHECK_RC(p2p_node_new("", 0, "", 3, &n), P2P_OK);
    REQUIRE(n != NULL);
    CHECK_RC(h_node_id(n, buf, sizeof buf), P2P_OK);
    CHECK(strlen(buf) == 128);
    int64_t v = -1;
    CHECK_RC(p2p_node_get_limit(n, P2P_LIMIT_MAX_CONNECTIONS, &v), P2P_OK);
    CHECK(v == 3);
    CHECK_RC(p2p_node_free(n), P2P_OK);
    n = NULL;
    /* bad arguments */
    m = (p2p_node *)1;
    CHECK_RC(p2p_node_new("127.0.0.1", -1, NULL, 0, &m), P2P_EINVAL);
    CHECK(m == NULL);
    CHECK_RC(p2p_node_new("127.0.0.1", 65536, NULL, 0, &m), P2P_EINVAL);
    CHECK_RC(p2p_node_new("127.0.0.1", INT_MIN, NULL, 0, &m), P2P_EINVAL);
    CHECK_RC(p2p_node_new("127.0.0.1", 0, NULL, -1, &m), P2P_EINVAL);
    CHECK_RC(p2p_node_new("127.0.0.1", 0, NULL, 0, NULL), P2P_EINVAL);
    CHECK_RC(p2p_node_new("256.1.2.3", 0, NULL, 0, &m), P2P_EBIND);
    CHECK_RC(p2p_node_new("no-such-host.invalid", 0, NULL, 0, &m), P2P_EBIND);
    CHECK_RC(p2p_node_new("192.0.2.1", 0, NULL, 0, &m), P2P_EBIND); /* not ours */
    CHECK(m == NULL);
    char *longid = malloc(P2P_MAX_ID_LEN + 2);
    memset(longid, 'i', P2P_MAX_ID_LEN + 1);
    longid[P2P_MAX_ID_LEN + 1] = 0;
    CHECK_RC(p2p_node_new("127.0.0.1", 0, longid, 0, &m), P2P_EINVAL);
    longid[4090] = 0; /* "<id>:<port>" must fit the reference's one 4096-byte read */
    CHECK_RC(p2p_node_new("127.0.0.1", 0, longid, 0, &m), P2P_OK);
    free(longid);
    if (m) {
        CHECK_RC(h_node_id(m, buf, sizeof buf), P2P_OK);
        CHECK(strlen(buf) == 4090);
        p2p_node_free(m);
    }
out:
    if (n) p2p_node_free(n);
}

static void test_node_facts_buffers(void) {
    p2p_node *n = NULL;
    char buf[64];
    REQUIRE(p2p_node_new("127.0.0.1", 0, "0123456789abcdef", 0, &n) == P2P_OK);
    CHECK_RC(h_node_id(n, buf, sizeof buf), P2P_OK);
    CHECK(strcmp(buf, "0123456789abcdef") == 0);
    CHECK_RC(h_node_host(n, buf, sizeof buf), P2P_OK);
    CHECK(strcmp(buf, "127.0.0.1") == 0);
    CHECK_RC(p2p_node_id_buf(n, NULL), P2P_EINVAL);
    CHECK_RC(p2p_node_host_buf(n, NULL), P2P_EINVAL);
    CHECK_RC(p2p_node_port(n, NULL), P2P_EINVAL);
    CHECK_RC(p2p_node_counters(n, NULL), P2P_EINVAL);
    p2p_counters c;
    memset(&c, 0xff, sizeof c);
    CHECK_RC(p2p_node_counters(n, &c), P2P_OK);
    CHECK(c.sent == 0 && c.received == 0 && c.receive_errors == 0);
    size_t count = 99;
    CHECK_RC(h_node_peers(n, P2P_ALL, NULL, 0, &count), P2P_OK);
    CHECK(count == 0);
out:
    if (n) p2p_node_free(n);
}

static const struct {
    int limit;
    int64_t def;
    int64_t set; /* a value to set; 0: 1234 + its index */
} LIMITS[] = {
    {P2P_LIMIT_MAX_CONNECTIONS, 0, 0},
    {P2P_LIMIT_HANDSHAKE_TIMEOUT_MS, 10000, 0},
    {P2P_LIMIT_DIAL_TIMEOUT_MS, 10000, 0},
    {P2P_LIMIT_MAX_FRAME_SIZE, 64 << 20, 0},
    {P2P_LIMIT_MAX_DECOMPRESSED_SIZE, 64 << 20, 0},
    {P2P_LIMIT_MAX_QUEUED_BYTES, 16 << 20, 0},
    {P2P_LIMIT_SEND_TIMEOUT_MS, 10000, 0},
    {P2P_LIMIT_RECONNECT_INTERVAL_MS, 1000, 0},
    {P2P_LIMIT_MAX_PENDING_EVENTS, 65536, 0},
    {P2P_LIMIT_OVERFLOW_POLICY, P2P_OVERFLOW_WAIT, P2P_OVERFLOW_DROP_OLDEST},
    {P2P_LIMIT_MAX_QUEUED_BYTES_TOTAL, 256 << 20, 0},
    {P2P_LIMIT_MAX_QUEUED_BYTES_PER_ADDRESS, 128 << 20, 0},
    {P2P_LIMIT_STOP_TIMEOUT_MS, 10000, 0},
    {P2P_LIMIT_MAX_PENDING_HANDSHAKES, 256, 0},
    {P2P_LIMIT_MAX_PENDING_HANDSHAKES_PER_ADDRESS, 128, 0},
    {P2P_LIMIT_IDLE_EVICTION_MS, 10000, 0},
    {P2P_LIMIT_MAX_PENDING_BYTES, 256 << 20, 0},
    {P2P_LIMIT_MAX_PENDING_BYTES_PER_ADDRESS, 128 << 20, 0},
    {P2P_LIMIT_ENCRYPTION, P2P_ENCRYPTION_PREFERRED, P2P_ENCRYPTION_REQUIRED},
    {P2P_LIMIT_HEARTBEAT_INTERVAL_MS, 5000, 0},
    {P2P_LIMIT_HEARTBEAT_TIMEOUT_MS, 12500, 0},
    {P2P_LIMIT_NEGOTIATION_WAIT_MS, 250, 0},
};
#define LIMIT_SET(i) (LIMITS[i].set ? LIMITS[i].set : 1234 + (int64_t)(i))
#define N_LIMITS (sizeof LIMITS / sizeof LIMITS[0])

static void test_limits(void) {
    p2p_node *n = NULL;
    int64_t v;
    recorder r;
    rec_init(&r, 64);
    REQUIRE((n = mk_node(&r, NULL)) != NULL);
    for (size_t i = 0; i < N_LIMITS; i++) {
        v = -1;
        CHECK_RC(p2p_node_get_limit(n, LIMITS[i].limit, &v), P2P_OK);
        CHECKF(v == LIMITS[i].def, "limit %d default %lld want %lld", LIMITS[i].limit, (long long)v,
               (long long)LIMITS[i].def);
        CHECK_RC(p2p_node_set_limit(n, LIMITS[i].limit, LIMIT_SET(i)), P2P_OK);
        CHECK_RC(p2p_node_get_limit(n, LIMITS[i].limit, &v), P2P_OK);
        CHECK(v == LIMIT_SET(i));
        CHECK_RC(p2p_node_set_limit(n, LIMITS[i].limit, -1), P2P_EINVAL);
        CHECK_RC(p2p_node_get_limit(n, LIMITS[i].limit, &v), P2P_OK);
        CHECK(v == LIMIT_SET(i));
        /* 0 restores the default */
        CHECK_RC(p2p_node_set_limit(n, LIMITS[i].limit, 0), P2P_OK);
        CHECK_RC(p2p_node_get_limit(n, LIMITS[i].limit, &v), P2P_OK);
        CHECK(v == LIMITS[i].def);
        CHECK_RC(p2p_node_get_limit(n, LIMITS[i].limit, NULL), P2P_EINVAL);
    }
    int bad[] = {0, 23, -1, 100, INT_MAX, INT_MIN};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_RC(p2p_node_set_limit(n, bad[i], 5), P2P_EINVAL);
        CHECK_RC(p2p_node_get_limit(n, bad[i], &v), P2P_EINVAL);
    }
    /* set several, then start: they stick; only MAX_CONNECTIONS may change */
    CHECK_RC(p2p_node_set_limit(n, P2P_LIMIT_MAX_FRAME_SIZE, 4096), P2P_OK);
    CHECK_RC(p2p_node_set_limit(n, P2P_LIMIT_SEND_TIMEOUT_MS, 777), P2P_OK);
    CHECK_RC(p2p_node_start(n), P2P_OK);
    CHECK_RC(p2p_node_get_limit(n, P2P_LIMIT_MAX_FRAME_SIZE, &v), P2P_OK);
    CHECK(v == 4096);
    CHECK_RC(p2p_node_get_limit(n, P2P_LIMIT_SEND_TIMEOUT_MS, &v), P2P_OK);
    CHECK(v == 777);
    for (size_t i = 1; i < N_LIMITS; i++) CHECK_RC(p2p_node_set_limit(n, LIMITS[i].limit, LIMIT_SET(i)), P2P_ESTATE);
    /* an unknown overflow policy */
    CHECK_RC(p2p_node_set_limit(n, P2P_LIMIT_OVERFLOW_POLICY, P2P_OVERFLOW_DISCONNECT + 1), P2P_EINVAL);
    CHECK_RC(p2p_node_get_limit(n, P2P_LIMIT_MAX_FRAME_SIZE, &v), P2P_OK);
    CHECK(v == 4096);
    CHECK_RC(p2p_node_set_limit(n, P2P_LIMIT_MAX_CONNECTIONS, 7), P2P_OK);
    CHECK_RC(p2p_node_get_limit(n, P2P_LIMIT_MAX_CONNECTIONS, &v), P2P_OK);
    CHECK(v == 7);
    CHECK_RC(p2p_node_stop(n), P2P_OK);
    CHECK_RC(p2p_node_set_limit(n, P2P_LIMIT_MAX_FRAME_SIZE, 5000), P2P_ESTATE);
    CHECK_RC(p2p_node_get_limit(n, P2P_LIMIT_MAX_FRAME_SIZE, &v), P2P_OK);
out:
    if (n) p2p_node_free(n);
    rec_destroy(&r);
}

/* Runs fn with standard error (fd 2) redirected to a file; returns its text. */
static char *capture_stderr(void (*fn)(void *), void *arg) {
    char path[] = "/tmp/p2p_capi_stderr_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return NULL;
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    fn(arg);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    off_t size = lseek(fd, 0, SEEK_END);
    char *text = calloc(1, (size_t)size + 1);
    if (pread(fd, text, (size_t)size, 0) < 0) text[0] = 0;
    close(fd);
    unlink(path);
    return text;
}

typedef struct debug_run {
    int debug;
    p2p_node *a;
    recorder *r;
} debug_run;

static void run_debug_network(void *arg) {
    debug_run *d = arg;
    side b;
    if (side_up(&b, 0) != 0) return;
    p2p_node_set_debug(d->a, d->debug);
    uint64_t peer = 0;
    if (p2p_node_connect(d->a, "127.0.0.1", b.port, 0, &peer) == P2P_OK) {
        p2p_node_send(d->a, peer, "x", 1, P2P_COMPRESSION_NONE);
        WAIT_UNTIL(rec_count(&b.r, P2P_EVENT_MESSAGE) == 1);
        size_t gone = rec_count(d->r, P2P_EVENT_OUTBOUND_DISCONNECTED);
        p2p_node_disconnect(d->a, peer);
        WAIT_UNTIL(rec_count(d->r, P2P_EVENT_OUTBOUND_DISCONNECTED) > gone); /* its debug line too */
    }
    side_free(&b);
}

static void test_debug(void) {
    p2p_node *a = NULL;
    int on = -1;
    char id[P2P_MAX_ID_LEN + 1], needle[P2P_MAX_ID_LEN + 16];
    recorder r;
    rec_init(&r, 64);
    REQUIRE((a = mk_node(&r, "debugnode")) != NULL);
    CHECK_RC(p2p_node_get_debug(a, &on), P2P_OK);
    CHECK(on == 0);
    CHECK_RC(p2p_node_set_debug(a, 5), P2P_OK);
    CHECK_RC(p2p_node_get_debug(a, &on), P2P_OK);
    CHECK(on == 1);
    CHECK_RC(p2p_node_set_debug(a, 0), P2P_OK);
    CHECK_RC(p2p_node_get_debug(a, &on), P2P_OK);
    CHECK(on == 0);
    CHECK_RC(p2p_node_get_debug(a, NULL), P2P_EINVAL);
    CHECK_RC(p2p_node_start(a), P2P_OK);
    h_node_id(a, id, sizeof id);
    snprintf(needle, sizeof needle, "DEBUG (%s): ", id);
    /* debug may be switched any time; lines go to fd 2 */
    debug_run d = {1, a, &r};
    char *text = capture_stderr(run_debug_network, &d);
    CHECKF(text && strstr(text, needle), "no \"%s\" line in: %s", needle, text ? text : "(null)");
    free(text);
    d.debug = 0;
    text = capture_stderr(run_debug_network, &d);
    CHECKF(text && !strstr(text, needle), "debug off, yet: %s", text ? text : "(null)");
    free(text);
out:
    if (a) p2p_node_free(a);
    rec_destroy(&r);
}

static void test_start_stop_states(void) {
    side a;
    REQUIRE(side_new(&a, 0, NULL) == 0);
    uint64_t peer = 7;
    CHECK_RC(p2p_node_connect(a.n, "127.0.0.1", 1, 0, &peer), P2P_ESTATE); /* not started */
    CHECK(peer == 0);
    CHECK_RC(p2p_node_start(a.n), P2P_OK);
    CHECK_RC(p2p_node_start(a.n), P2P_ESTATE);
    CHECK_RC(p2p_node_set_callback(a.n, rec_callback, &a.r), P2P_ESTATE);
    CHECK_RC(p2p_node_set_callback(a.n, NULL, NULL), P2P_ESTATE);
    CHECK_RC(p2p_node_stop(a.n), P2P_OK);
    CHECK_RC(p2p_node_stop(a.n), P2P_OK); /* idempotent */
    CHECK_RC(p2p_node_start(a.n), P2P_ESTOPPED);
    CHECK_RC(p2p_node_connect(a.n, "127.0.0.1", 1, 0, NULL), P2P_ESTOPPED);
    CHECK(rec_count(&a.r, P2P_EVENT_REQUEST_TO_STOP) == 1);
    CHECK_RC(p2p_node_free(a.n), P2P_OK);
    CHECK_RC(p2p_node_free(a.n), P2P_EHANDLE);
    a.n = NULL;
out:
    side_free(&a);
}

/* A node never started can be stopped and freed; it raises nothing. */
static void test_stop_unstarted(void) {
    side a;
    REQUIRE(side_new(&a, 0, NULL) == 0);
    CHECK_RC(p2p_node_stop(a.n), P2P_OK);
    CHECK_RC(p2p_node_start(a.n), P2P_ESTOPPED);
    CHECK(rec_len(&a.r) == 0);
out:
    side_free(&a);
}

static void test_set_callback_null_back_to_poll(void) {
    side a, b;
    memset(&b, 0, sizeof b);
    REQUIRE(side_new(&a, 0, NULL) == 0);
    CHECK_RC(p2p_node_set_callback(a.n, NULL, NULL), P2P_OK); /* back to poll mode */
    CHECK_RC(p2p_node_set_callback(a.n, NULL, NULL), P2P_OK);
    a.poll = 1;
    CHECK_RC(side_start(&a), P2P_OK);
    REQUIRE(side_up(&b, 0) == 0);
    CHECK(link_sides(&b, &a, 0, NULL, NULL) == P2P_OK);
    CHECK(rec_count(&a.r, P2P_EVENT_INBOUND_CONNECTED) == 1);
out:
    side_free(&a);
    side_free(&b);
}

/* ---- Connections ------------------------------------------------------------- */

static void test_connect_and_peer_facts(void) {
    side a, b;
    uint64_t ab = 0, ba = 0;
    char buf[P2P_MAX_ID_LEN + 1];
    int port = 0, dir = -1;
    REQUIRE(side_up(&a, 0) == 0 && side_up(&b, 0) == 0);
    REQUIRE(link_sides(&a, &b, 0, &ab, &ba) == P2P_OK);
    CHECK(ab != 0 && ba != 0);
    /* outbound side */
    const rec_event *e = rec_nth(&a.r, P2P_EVENT_OUTBOUND_CONNECTED, 0);
    REQUIRE(e);
    CHECK(e->peer == ab);
    CHECK(e->node == a.n);
    CHECK(strcmp(e->peer_id, b.id) == 0);
    CHECK(strcmp(e->peer_host, "127.0.0.1") == 0);
    CHECK(e->peer_port == b.port);
    CHECK(e->direction == P2P_OUTBOUND);
    CHECK(e->data == NULL && e->data_len == 0);
    /* inbound side: the listening port from the handshake, not the source port */
    e = rec_nth(&b.r, P2P_EVENT_INBOUND_CONNECTED, 0);
    REQUIRE(e);
    CHECK(e->peer == ba);
    CHECK(e->node == b.n);
    CHECK(strcmp(e->peer_id, a.id) == 0);
    CHECK(strcmp(e->peer_host, "127.0.0.1") == 0);
    CHECK(e->peer_port == a.port);
    CHECK(e->direction == P2P_INBOUND);
    /* peer queries */
    CHECK_RC(h_peer_id(a.n, ab, buf, sizeof buf), P2P_OK);
    CHECK(strcmp(buf, b.id) == 0);
    CHECK_RC(h_peer_host(a.n, ab, buf, sizeof buf), P2P_OK);
    CHECK(strcmp(buf, "127.0.0.1") == 0);
    CHECK_RC(p2p_peer_port(a.n, ab, &port), P2P_OK);
    CHECK(port == b.port);
    CHECK_RC(p2p_peer_port(b.n, ba, &port), P2P_OK);
    CHECK(port == a.port);
    CHECK_RC(p2p_peer_direction(a.n, ab, &dir), P2P_OK);
    CHECK(dir == P2P_OUTBOUND);
    CHECK_RC(p2p_peer_direction(b.n, ba, &dir), P2P_OK);
    CHECK(dir == P2P_INBOUND);
    /* handles are per node */
    if (ab != ba) CHECK_RC(h_peer_id(a.n, ba, buf, sizeof buf), P2P_ENOPEER);
    CHECK_RC(h_peer_id(a.n, 0, buf, sizeof buf), P2P_ENOPEER);
    CHECK_RC(p2p_peer_port(a.n, 987654321, &port), P2P_ENOPEER);
    CHECK_RC(p2p_peer_direction(a.n, UINT64_MAX, &dir), P2P_ENOPEER);
    CHECK_RC(h_peer_host(a.n, 424242, buf, sizeof buf), P2P_ENOPEER);
    /* peer lists */
    uint64_t list[4] = {0, 0, 0, 0};
    size_t count = 0;
    CHECK_RC(h_node_peers(a.n, P2P_OUTBOUND, list, 4, &count), P2P_OK);
    CHECK(count == 1 && list[0] == ab);
    CHECK_RC(h_node_peers(a.n, P2P_INBOUND, list, 4, &count), P2P_OK);
    CHECK(count == 0);
    CHECK_RC(h_node_peers(b.n, P2P_INBOUND, list, 4, &count), P2P_OK);
    CHECK(count == 1 && list[0] == ba);
    CHECK_RC(h_node_peers(b.n, P2P_ALL, list, 4, &count), P2P_OK);
    CHECK(count == 1);
    CHECK_RC(h_node_peers(b.n, 3, list, 4, &count), P2P_EINVAL);
    CHECK_RC(h_node_peers(b.n, -1, list, 4, &count), P2P_EINVAL);
out:
    side_free(&a);
    side_free(&b);
}

/* P2P_ALL lists inbound then outbound; ERANGE when cap is short, count still full. */
static void test_peer_lists_all(void) {
    side a, b, c, d;
    uint64_t ab = 0, ac = 0, ad = 0;
    memset(&c, 0, sizeof c);
    memset(&d, 0, sizeof d);
    REQUIRE(side_up(&a, 0) == 0 && side_up(&b, 0) == 0 && side_up(&c, 0) == 0 && side_up(&d, 0) == 0);
    REQUIRE(link_sides(&a, &b, 0, &ab, NULL) == P2P_OK);
    REQUIRE(link_sides(&c, &a, 0, NULL, &ac) == P2P_OK);
    REQUIRE(link_sides(&d, &a, 0, NULL, &ad) == P2P_OK);
    uint64_t list[8];
    size_t count = 0;
    CHECK_RC(h_node_peers(a.n, P2P_ALL, list, 8, &count), P2P_OK);
    CHECK(count == 3);
    CHECK(list[0] == ac && list[1] == ad && list[2] == ab);
    memset(list, 0, sizeof list);
    count = 0;
    int rc = h_node_peers(a.n, P2P_ALL, NULL, 0, &count); /* ask for the count */
    CHECK(rc == P2P_OK || rc == P2P_ERANGE);
    CHECK(count == 3);
    CHECK(peer_count(a.n, P2P_INBOUND) == 2);
    CHECK(peer_count(a.n, P2P_OUTBOUND) == 1);
out:
    side_free(&a);
    side_free(&b);
    side_free(&c);
    side_free(&d);
}

static void test_connect_self(void) {
    side a;
    uint64_t peer = 9;
    REQUIRE(side_up(&a, 0) == 0);
    CHECK_RC(p2p_node_connect(a.n, "127.0.0.1", a.port, 0, &peer), P2P_ESELF);
    CHECK(peer == 0);
    /* another name for the same node: found out by its id */
    CHECK_RC(p2p_node_connect(a.n, "localhost", a.port, 1, &peer), P2P_ESELF);
    CHECK(peer_count(a.n, P2P_ALL) == 0);
    CHECK(rec_count(&a.r, P2P_EVENT_OUTBOUND_CONNECTED) == 0);
out:
    side_free(&a);
}

static void test_connect_duplicate(void) {
    side a, b;
    uint64_t ab = 0, ba = 0, again = 0;
    REQUIRE(side_up(&a, 0) == 0 && side_up(&b, 0) == 0);
    REQUIRE(link_sides(&a, &b, 0, &ab, &ba) == P2P_OK);
    CHECK_RC(p2p_node_connect(a.n, "127.0.0.1", b.port, 0, &again), P2P_EALREADY);
    CHECK(again == ab);
    CHECK_RC(p2p_node_connect(a.n, "127.0.0.1", b.port, 0, NULL), P2P_EALREADY);
    /* the other way round: b already has a as an inbound peer */
    again = 0;
    CHECK_RC(p2p_node_connect(b.n, "127.0.0.1", a.port, 0, &again), P2P_EALREADY);
    CHECK(again == ba); /* "*peer then names the existing peer where there is one" */
    /* a briefly saw the turned-away connection as an inbound peer, as the reference does */
    CHECK(WAIT_UNTIL(peer_count(a.n, P2P_ALL) == 1));
    CHECK(peer_count(b.n, P2P_ALL) == 1);
out:
    side_free(&a);
    side_free(&b);
}

static void test_connect_errors(void) {
    side a;
    p2p_node *gone = NULL;
    uint64_t peer = 5;
    REQUIRE(side_new(&a, 0, NULL) == 0);
    CHECK_RC(p2p_node_set_limit(a.n, P2P_LIMIT_DIAL_TIMEOUT_MS, 3000), P2P_OK);
    REQUIRE(side_start(&a) == P2P_OK);
    /* a port where nobody listens any more */
    REQUIRE((gone = mk_node(NULL, NULL)) != NULL);
    int dead = node_port(gone);
    p2p_node_free(gone);
    CHECK_RC(p2p_node_connect(a.n, "127.0.0.1", dead, 0, &peer), P2P_ECONNECT);
    CHECK(peer == 0);
    CHECK(strlen(p2p_errmsg()) > 0);
    CHECK_RC(p2p_node_connect(a.n, "127.0.0.1", 0, 0, &peer), P2P_EINVAL);
    CHECK_RC(p2p_node_connect(a.n, "127.0.0.1", -1, 0, &peer), P2P_EINVAL);
    CHECK_RC(p2p_node_connect(a.n, "127.0.0.1", 65536, 0, &peer), P2P_EINVAL);
    CHECK_RC(p2p_node_connect(a.n, "", a.port, 0, &peer), P2P_EINVAL);
    CHECK_RC(p2p_node_connect(a.n, NULL, a.port, 0, &peer), P2P_EINVAL);
    CHECK_RC(p2p_node_connect(a.n, "256.256.256.256", 80, 0, &peer), P2P_ECONNECT);
    CHECK_RC(p2p_node_connect(a.n, "no-such-host.invalid", 80, 0, &peer), P2P_ECONNECT);
    CHECK(rec_count(&a.r, 0) == 0);
out:
    side_free(&a);
}

/* Raw TCP helpers, to play a misbehaving peer. */
static int raw_listen(int *port) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sa;
    if (bind(s, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(s, 8) != 0) {
        close(s);
        return -1;
    }
    getsockname(s, (struct sockaddr *)&sa, &sl);
    *port = ntohs(sa.sin_port);
    return s;
}

static int raw_connect(int port) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)port);
    if (connect(s, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(s);
        return -1;
    }
    return s;
}

static int send_all(int s, const void *buf, size_t len) {
    const char *p = buf;
    while (len > 0) {
        ssize_t w = send(s, p, len, MSG_NOSIGNAL);
        if (w <= 0) return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

static int send_str(int s, const char *str) { return send_all(s, str, strlen(str)); }

static void *accept_and_close(void *arg) {
    int s = *(int *)arg;
    int c = accept(s, NULL, NULL);
    if (c >= 0) {
        char buf[256];
        if (recv(c, buf, sizeof buf, 0) < 0) buf[0] = 0;
        close(c);
    }
    return NULL;
}

static void test_connect_handshake_failures(void) {
    side a;
    int port = 0, ls = -1;
    pthread_t t;
    REQUIRE(side_new(&a, 0, NULL) == 0);
    CHECK_RC(p2p_node_set_limit(a.n, P2P_LIMIT_HANDSHAKE_TIMEOUT_MS, 300), P2P_OK);
    REQUIRE(side_start(&a) == P2P_OK);
    /* a listener that never answers: the handshake times out */
    REQUIRE((ls = raw_listen(&port)) >= 0);
    CHECK_RC(p2p_node_connect(a.n, "127.0.0.1", port, 0, NULL), P2P_EHANDSHAKE);
    close(ls);
    /* a listener that reads the id and hangs up: turned away */
    REQUIRE((ls = raw_listen(&port)) >= 0);
    pthread_create(&t, NULL, accept_and_close, &ls);
    CHECK_RC(p2p_node_connect(a.n, "127.0.0.1", port, 0, NULL), P2P_ECONNECT);
    pthread_join(t, NULL);
    close(ls);
    CHECK(peer_count(a.n, P2P_ALL) == 0);
out:
    side_free(&a);
}

/* A raw client speaks the p2pnetwork wire format to a node. */
static void test_raw_peer_wire(void) {
    side b;
    int s = -1;
    REQUIRE(side_new(&b, 0, "node-b") == 0);
    CHECK_RC(p2p_node_set_limit(b.n, P2P_LIMIT_MAX_FRAME_SIZE, 1000), P2P_OK);
    REQUIRE(side_start(&b) == P2P_OK);
    REQUIRE((s = raw_connect(b.port)) >= 0);
    REQUIRE(send_str(s, "raw-peer:4321") == 0);
    char buf[64] = {0};
    ssize_t r = recv(s, buf, sizeof buf - 1, 0);
    CHECK(r == 6 && strcmp(buf, "node-b") == 0);
    REQUIRE(WAIT_UNTIL(rec_count(&b.r, P2P_EVENT_INBOUND_CONNECTED) == 1));
    const rec_event *e = rec_nth(&b.r, P2P_EVENT_INBOUND_CONNECTED, 0);
    CHECK(strcmp(e->peer_id, "raw-peer") == 0 && e->peer_port == 4321);
    /* two frames in one write; a bad compressed frame is dropped and counted */
    REQUIRE(send_str(s, "one\x04{\"two\": 2}\x04") == 0);
    REQUIRE(send_str(s, "!!!not base64\x02\x04") == 0);
    REQUIRE(send_str(s, "three\x04") == 0);
    CHECK(WAIT_UNTIL(rec_count(&b.r, P2P_EVENT_MESSAGE) == 3));
    CHECK(rec_count_msg(&b.r, "one", 3) == 1);
    e = rec_nth(&b.r, P2P_EVENT_MESSAGE, 1);
    CHECK(e && e->kind == P2P_KIND_JSON);
    e = rec_nth(&b.r, P2P_EVENT_MESSAGE, 2);
    CHECK(e && strcmp((char *)e->data, "three") == 0);
    p2p_counters c;
    CHECK_RC(p2p_node_counters(b.n, &c), P2P_OK);
    CHECK(c.received == 4 && c.receive_errors == 1);
    /* a frame over the limit costs the connection, not the node */
    char big[2000];
    memset(big, 'z', sizeof big);
    send_all(s, big, sizeof big);
    CHECK(WAIT_UNTIL(rec_count(&b.r, P2P_EVENT_INBOUND_DISCONNECTED) == 1));
    CHECK_RC(p2p_node_counters(b.n, &c), P2P_OK);
    CHECK(c.receive_errors == 2);
    /* a client that connects and never says its id is dropped after the timeout */
out:
    if (s >= 0) close(s);
    side_free(&b);
}

static void test_handshake_timeout_inbound(void) {
    side b;
    int s = -1;
    REQUIRE(side_new(&b, 0, NULL) == 0);
    /* the plaintext handshake (a native listener greets first, see test_native.c) */
    CHECK_RC(p2p_node_set_limit(b.n, P2P_LIMIT_ENCRYPTION, P2P_ENCRYPTION_OFF), P2P_OK);
    CHECK_RC(p2p_node_set_limit(b.n, P2P_LIMIT_HANDSHAKE_TIMEOUT_MS, 200), P2P_OK);
    REQUIRE(side_start(&b) == P2P_OK);
    REQUIRE((s = raw_connect(b.port)) >= 0);
    char c;
    ssize_t r = recv(s, &c, 1, 0); /* the node closes the silent connection */
    CHECK(r == 0);
    CHECK(rec_count(&b.r, 0) == 0);
out:
    if (s >= 0) close(s);
    side_free(&b);
}

static void test_max_connections(void) {
    side a, b, c, d;
    memset(&c, 0, sizeof c);
    memset(&d, 0, sizeof d);
    p2p_node *limited = NULL;
    REQUIRE(side_up(&a, 0) == 0 && side_up(&c, 0) == 0 && side_up(&d, 0) == 0);
    rec_init(&b.r, 64);
    b.poll = 0;
    REQUIRE(p2p_node_new("127.0.0.1", 0, NULL, 1, &limited) == P2P_OK);
    b.n = limited;
    p2p_node_set_callback(b.n, rec_callback, &b.r);
    b.port = node_port(b.n);
    h_node_id(b.n, b.id, sizeof b.id);
    REQUIRE(side_start(&b) == P2P_OK);
    CHECK(link_sides(&a, &b, 0, NULL, NULL) == P2P_OK);
    CHECK_RC(p2p_node_connect(c.n, "127.0.0.1", b.port, 0, NULL), P2P_ECONNECT);
    CHECK(peer_count(b.n, P2P_INBOUND) == 1);
    CHECK(rec_count(&b.r, P2P_EVENT_INBOUND_CONNECTED) == 1);
    /* raised at run time: applies from then on */
    CHECK_RC(p2p_node_set_limit(b.n, P2P_LIMIT_MAX_CONNECTIONS, 2), P2P_OK);
    CHECK(link_sides(&c, &b, 0, NULL, NULL) == P2P_OK);
    /* turned away: ECONNECT every time, whether the node's close beats the id or not */
    for (int i = 0; i < 10; i++) CHECK_RC(p2p_node_connect(d.n, "127.0.0.1", b.port, 0, NULL), P2P_ECONNECT);
    CHECK_RC(p2p_node_set_limit(b.n, P2P_LIMIT_MAX_CONNECTIONS, 0), P2P_OK); /* unlimited */
    CHECK(link_sides(&d, &b, 0, NULL, NULL) == P2P_OK);
    CHECK(peer_count(b.n, P2P_INBOUND) == 3);
    /* outbound connections do not count */
    CHECK_RC(p2p_node_set_limit(b.n, P2P_LIMIT_MAX_CONNECTIONS, 1), P2P_OK);
    side e;
    REQUIRE(side_up(&e, 0) == 0);
    CHECK(link_sides(&b, &e, 0, NULL, NULL) == P2P_OK);
    side_free(&e);
out:
    side_free(&a);
    side_free(&b);
    side_free(&c);
    side_free(&d);
}

/* ---- Messages: errors, limits, counters, broadcast ------------------------ */

static void test_send_errors(void) {
    side a, b;
    uint64_t ab = 0;
    REQUIRE(side_up(&a, 0) == 0 && side_up(&b, 0) == 0);
    REQUIRE(link_sides(&a, &b, 0, &ab, NULL) == P2P_OK);
    CHECK_RC(p2p_node_send(a.n, 0, "x", 1, 0), P2P_ENOPEER);
    CHECK_RC(p2p_node_send(a.n, ab + 1000, "x", 1, 0), P2P_ENOPEER);
    CHECK_RC(p2p_node_send(a.n, ab, "x", 1, 4), P2P_EINVAL);
    CHECK_RC(p2p_node_send(a.n, ab, "x", 1, -1), P2P_EINVAL);
    CHECK_RC(p2p_node_send(a.n, ab, "x", 1, INT_MAX), P2P_EINVAL);
    CHECK_RC(p2p_node_send(a.n, ab, NULL, 5, 0), P2P_EINVAL);
    CHECK_RC(p2p_node_broadcast(a.n, "x", 1, NULL, 0, 7), P2P_EINVAL);
    CHECK_RC(p2p_node_broadcast(a.n, NULL, 3, NULL, 0, 0), P2P_EINVAL);
    CHECK_RC(p2p_node_broadcast(a.n, "x", 1, NULL, 2, 0), P2P_EINVAL);
    /* NULL data with length 0 is an empty message */
    CHECK_RC(p2p_node_send(a.n, ab, NULL, 0, P2P_COMPRESSION_NONE), P2P_OK);
    CHECK(WAIT_UNTIL(rec_count(&b.r, P2P_EVENT_MESSAGE) == 1));
    const rec_event *e = rec_nth(&b.r, P2P_EVENT_MESSAGE, 0);
    CHECK(e && e->data_len == 0 && e->data != NULL);
    CHECK_RC(p2p_node_broadcast(a.n, NULL, 0, NULL, 0, P2P_COMPRESSION_BZIP2), P2P_OK);
    CHECK(WAIT_UNTIL(rec_count(&b.r, P2P_EVENT_MESSAGE) == 2));
    /* after the peer is gone */
    CHECK_RC(p2p_node_disconnect(a.n, ab), P2P_OK);
    CHECK(WAIT_UNTIL(rec_count(&a.r, P2P_EVENT_OUTBOUND_DISCONNECTED) == 1));
    CHECK_RC(p2p_node_send(a.n, ab, "x", 1, 0), P2P_ENOPEER);
    CHECK_RC(p2p_node_disconnect(a.n, ab), P2P_ENOPEER);
    char buf[16];
    CHECK_RC(h_peer_id(a.n, ab, buf, sizeof buf), P2P_ENOPEER);
    CHECK_RC(p2p_node_broadcast(a.n, "x", 1, NULL, 0, 0), P2P_OK); /* nobody to send to */
out:
    side_free(&a);
    side_free(&b);
}

static void test_too_big(void) {
    side a, b;
    uint64_t ab = 0;
    char buf[300];
    memset(buf, 'q', sizeof buf);
    REQUIRE(side_new(&a, 0, NULL) == 0 && side_up(&b, 0) == 0);
    CHECK_RC(p2p_node_set_limit(a.n, P2P_LIMIT_MAX_FRAME_SIZE, 100), P2P_OK);
    REQUIRE(side_start(&a) == P2P_OK);
    REQUIRE(link_sides(&a, &b, 0, &ab, NULL) == P2P_OK);
    CHECK_RC(p2p_node_send(a.n, ab, buf, 100, P2P_COMPRESSION_NONE), P2P_OK);
    CHECK_RC(p2p_node_send(a.n, ab, buf, 101, P2P_COMPRESSION_NONE), P2P_ETOOBIG);
    CHECK(strlen(p2p_errmsg()) > 0);
    CHECK_RC(p2p_node_send(a.n, ab, buf, 300, P2P_COMPRESSION_NONE), P2P_ETOOBIG);
    CHECK_RC(p2p_node_broadcast(a.n, buf, 300, NULL, 0, P2P_COMPRESSION_NONE), P2P_ETOOBIG);
    /* the limit is on the frame: 300 equal bytes compress well under it */
    CHECK_RC(p2p_node_send(a.n, ab, buf, 300, P2P_COMPRESSION_ZLIB), P2P_OK);
    CHECK(WAIT_UNTIL(rec_count(&b.r, P2P_EVENT_MESSAGE) == 2));
    CHECK(rec_count_msg(&b.r, buf, 300) == 1);
    p2p_counters c;
    CHECK_RC(p2p_node_counters(a.n, &c), P2P_OK);
    CHECK(c.sent == 2);
out:
    side_free(&a);
    side_free(&b);
}

static void test_decompressed_limit(void) {
    side a, b;
    uint64_t ab = 0;
    size_t len = 100000;
    char *zeros = calloc(1, len);
    REQUIRE(side_up(&a, 0) == 0 && side_new(&b, 0, NULL) == 0);
    CHECK_RC(p2p_node_set_limit(b.n, P2P_LIMIT_MAX_DECOMPRESSED_SIZE, 1000), P2P_OK);
    REQUIRE(side_start(&b) == P2P_OK);
    REQUIRE(link_sides(&a, &b, 0, &ab, NULL) == P2P_OK);
    CHECK_RC(p2p_node_send(a.n, ab, zeros, len, P2P_COMPRESSION_ZLIB), P2P_OK);
    CHECK_RC(p2p_node_send(a.n, ab, "after", 5, P2P_COMPRESSION_ZLIB), P2P_OK);
    CHECK(WAIT_UNTIL(rec_count(&b.r, P2P_EVENT_MESSAGE) == 1));
    CHECK(rec_count_msg(&b.r, "after", 5) == 1);
    p2p_counters c;
    CHECK_RC(p2p_node_counters(b.n, &c), P2P_OK);
    CHECK(c.received == 2 && c.receive_errors == 1);
    CHECK(peer_count(b.n, P2P_ALL) == 1); /* the connection lives on */
out:
    free(zeros);
    side_free(&a);
    side_free(&b);
}

static void test_broadcast_and_counters(void) {
    side a, b, c, d;
    uint64_t ab = 0, ac = 0, ad = 0, ba = 0;
    memset(&c, 0, sizeof c);
    memset(&d, 0, sizeof d);
    REQUIRE(side_up(&a, 0) == 0 && side_up(&b, 0) == 0 && side_up(&c, 0) == 0 && side_up(&d, 1) == 0);
    REQUIRE(link_sides(&a, &b, 0, &ab, &ba) == P2P_OK);
    REQUIRE(link_sides(&a, &c, 0, &ac, NULL) == P2P_OK);
    REQUIRE(link_sides(&d, &a, 0, NULL, &ad) == P2P_OK);
    uint64_t exclude[] = {ac, 999999};
    CHECK_RC(p2p_node_broadcast(a.n, "to all", 6, exclude, 2, P2P_COMPRESSION_LZMA), P2P_OK);
    CHECK_RC(p2p_node_send(a.n, ac, "only c", 6, P2P_COMPRESSION_NONE), P2P_OK);
    CHECK(WAIT_UNTIL(rec_count(&b.r, P2P_EVENT_MESSAGE) == 1));
    CHECK(WAIT_POLL(d.n, &d.r, rec_count(&d.r, P2P_EVENT_MESSAGE) == 1));
    CHECK(WAIT_UNTIL(rec_count(&c.r, P2P_EVENT_MESSAGE) == 1));
    CHECK(rec_count_msg(&b.r, "to all", 6) == 1);
    CHECK(rec_count_msg(&d.r, "to all", 6) == 1);
    CHECK(rec_count_msg(&c.r, "only c", 6) == 1); /* the broadcast never came before it */
    const rec_event *e = rec_nth(&d.r, P2P_EVENT_MESSAGE, 0);
    CHECK(e && e->compression == P2P_COMPRESSION_LZMA && e->direction == P2P_OUTBOUND);
    CHECK_RC(p2p_node_broadcast(a.n, "everyone", 8, NULL, 0, P2P_COMPRESSION_NONE), P2P_OK);
    CHECK(WAIT_UNTIL(rec_count(&c.r, P2P_EVENT_MESSAGE) == 2));
    CHECK(WAIT_UNTIL(rec_count(&b.r, P2P_EVENT_MESSAGE) == 2));
    CHECK(WAIT_POLL(d.n, &d.r, rec_count(&d.r, P2P_EVENT_MESSAGE) == 2));
    p2p_counters ca, cb;
    CHECK_RC(p2p_node_counters(a.n, &ca), P2P_OK);
    CHECK(ca.sent == 2 + 1 + 3); /* a broadcast counts once per peer */
    CHECK(ca.received == 0 && ca.receive_errors == 0);
    CHECK_RC(p2p_node_counters(b.n, &cb), P2P_OK);
    CHECK(cb.received == 2 && cb.sent == 0);
    CHECK_RC(p2p_node_send(b.n, ba, "back", 4, 0), P2P_OK);
    CHECK(WAIT_UNTIL(rec_count(&a.r, P2P_EVENT_MESSAGE) == 1));
    CHECK_RC(p2p_node_counters(a.n, &ca), P2P_OK);
    CHECK(ca.received == 1);
    (void)ad;
out:
    side_free(&a);
    side_free(&b);
    side_free(&c);
    side_free(&d);
}

/* Many messages, in order, none lost; in poll mode with a small event bound too. */
static void run_batch(int poll, int64_t max_pending, int count) {
    side a, b;
    uint64_t ab = 0;
    REQUIRE(side_up(&a, 0) == 0 && side_new(&b, poll, NULL) == 0);
    if (max_pending) CHECK_RC(p2p_node_set_limit(b.n, P2P_LIMIT_MAX_PENDING_EVENTS, max_pending), P2P_OK);
    REQUIRE(side_start(&b) == P2P_OK);
    REQUIRE(link_sides(&a, &b, 0, &ab, NULL) == P2P_OK);
    for (int i = 0; i < count; i++) {
        char msg[32];
        int len = snprintf(msg, sizeof msg, "m%06d", i);
        CHECK_RC(p2p_node_send(a.n, ab, msg, (size_t)len, i % 7 == 0 ? P2P_COMPRESSION_ZLIB : 0), P2P_OK);
    }
    CHECKF(WAIT_SIDE(&b, rec_count(&b.r, P2P_EVENT_MESSAGE) >= (size_t)count), "got %zu of %d",
           rec_count(&b.r, P2P_EVENT_MESSAGE), count);
    CHECK(rec_count(&b.r, P2P_EVENT_MESSAGE) == (size_t)count);
    int in_order = 1;
    for (int i = 0; i < count; i++) {
        const rec_event *e = rec_nth(&b.r, P2P_EVENT_MESSAGE, (size_t)i);
        char want[32];
        snprintf(want, sizeof want, "m%06d", i);
        if (!e || strcmp((char *)e->data, want) != 0) {
            in_order = 0;
            break;
        }
    }
    CHECK(in_order);
    CHECK(b.r.overflow == 0);
out:
    side_free(&a);
    side_free(&b);
}
static void test_batch_callback(void) { run_batch(0, 0, 5000); }
static void test_batch_poll(void) { run_batch(1, 0, 5000); }
static void test_batch_poll_small_bound(void) { run_batch(1, 8, 3000); }

/* poll hands back at most max events per call, in batches when many are ready. */
static void test_poll_batches(void) {
    side a, b;
    uint64_t ab = 0;
    REQUIRE(side_up(&a, 0) == 0 && side_up(&b, 1) == 0);
    REQUIRE(link_sides(&a, &b, 0, &ab, NULL) == P2P_OK);
    for (int i = 0; i < 200; i++) CHECK_RC(p2p_node_send(a.n, ab, "x", 1, 0), P2P_OK);
    p2p_counters c;
    CHECK(WAIT_UNTIL(p2p_node_counters(b.n, &c) == P2P_OK && c.received == 200));
    p2p_event evs[300];
    size_t n = 0, total = 0, max_batch = 0;
    while (total < 200) {
        int rc = p2p_node_poll(b.n, evs, 50, 2000, &n);
        CHECK_RC(rc, P2P_OK);
        if (rc != P2P_OK || n == 0) break;
        CHECK(n <= 50);
        if (n > max_batch) max_batch = n;
        for (size_t i = 0; i < n; i++) CHECK(evs[i].type == P2P_EVENT_MESSAGE && evs[i].data_len == 1);
        total += n;
    }
    CHECK(total == 200);
    CHECK(max_batch > 1);
    /* nothing more: timeout 0 returns at once with count 0 */
    n = 99;
    CHECK_RC(p2p_node_poll(b.n, evs, 10, 0, &n), P2P_OK);
    CHECK(n == 0);
    n = 99;
    CHECK_RC(p2p_node_poll(b.n, evs, 10, 20, &n), P2P_OK);
    CHECK(n == 0);
    CHECK_RC(p2p_node_poll(b.n, evs, 0, 0, &n), P2P_EINVAL);
    CHECK_RC(p2p_node_poll(b.n, NULL, 10, 0, &n), P2P_EINVAL);
    CHECK_RC(p2p_node_poll(b.n, evs, 10, 0, NULL), P2P_EINVAL);
    CHECK_RC(p2p_node_reply(b.n, 1), P2P_ESTATE); /* no question waiting */
    /* a callback node cannot be polled */
    CHECK_RC(p2p_node_poll(a.n, evs, 10, 0, &n), P2P_ESTATE);
out:
    side_free(&a);
    side_free(&b);
}

typedef struct poll_thread {
    p2p_node *n;
    int rc;
    size_t events;
    volatile int done;
} poll_thread;

static void *poll_forever(void *arg) {
    poll_thread *p = arg;
    p2p_event evs[16];
    for (;;) {
        size_t n = 0;
        p->rc = p2p_node_poll(p->n, evs, 16, -1, &n);
        p->events += n;
        if (p->rc != P2P_OK) break;
    }
    __atomic_store_n(&p->done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

/* A poll waiting without limit returns when the node stops, or is freed. */
static void test_poll_wakes_on_stop_and_free(void) {
    side a, b;
    pthread_t t;
    poll_thread p = {0};
    memset(&b, 0, sizeof b);
    REQUIRE(side_up(&a, 1) == 0 && side_up(&b, 0) == 0);
    p.n = a.n;
    pthread_create(&t, NULL, poll_forever, &p);
    CHECK_RC(p2p_node_connect(b.n, "127.0.0.1", a.port, 0, NULL), P2P_OK); /* a's events go to the thread */
    CHECK(WAIT_UNTIL(rec_count(&b.r, P2P_EVENT_OUTBOUND_CONNECTED) == 1));
    CHECK_RC(p2p_node_stop(a.n), P2P_OK);
    CHECK(WAIT_UNTIL(__atomic_load_n(&p.done, __ATOMIC_SEQ_CST)));
    pthread_join(t, NULL);
    CHECK_RC(p.rc, P2P_ESTOPPED);
    CHECK(p.events >= 3); /* connected, request to stop, disconnected */
    side_free(&a);
    /* freed while a poll waits */
    REQUIRE(side_up(&a, 1) == 0);
    memset(&p, 0, sizeof p);
    p.n = a.n;
    pthread_create(&t, NULL, poll_forever, &p);
    CHECK_RC(p2p_node_free(a.n), P2P_OK);
    a.n = NULL;
    CHECK(WAIT_UNTIL(__atomic_load_n(&p.done, __ATOMIC_SEQ_CST)));
    pthread_join(t, NULL);
    CHECK_RC(p.rc, P2P_EHANDLE);
out:
    side_free(&a);
    side_free(&b);
}

/* After stop, poll drains what is left, then says ESTOPPED. */
static void test_poll_after_stop(void) {
    side a, b;
    uint64_t ba = 0;
    REQUIRE(side_up(&a, 1) == 0 && side_up(&b, 0) == 0);
    REQUIRE(link_sides(&b, &a, 0, &ba, NULL) == P2P_OK);
    CHECK_RC(p2p_node_send(b.n, ba, "last", 4, 0), P2P_OK);
    p2p_counters c;
    CHECK(WAIT_UNTIL(p2p_node_counters(a.n, &c) == P2P_OK && c.received == 1));
    CHECK_RC(p2p_node_stop(a.n), P2P_OK);
    int rc;
    int64_t until = h_now_ms() + WAIT_MS;
    while ((rc = rec_pump(a.n, &a.r, 100)) == P2P_OK && h_now_ms() < until) {
    }
    CHECK_RC(rc, P2P_ESTOPPED);
    CHECK(rec_count_msg(&a.r, "last", 4) == 1);
    CHECK(rec_count(&a.r, P2P_EVENT_REQUEST_TO_STOP) == 1);
    CHECK(rec_count(&a.r, P2P_EVENT_INBOUND_DISCONNECTED) == 1);
    CHECK(rec_index(&a.r, P2P_EVENT_REQUEST_TO_STOP, 0) < rec_index(&a.r, P2P_EVENT_INBOUND_DISCONNECTED, 0));
    CHECK_RC(rec_pump(a.n, &a.r, 0), P2P_ESTOPPED);
out:
    side_free(&a);
    side_free(&b);
}

/* ---- Per-peer info --------------------------------------------------------- */

static void test_peer_info(void) {
    side a, b;
    uint64_t ab = 0, ba = 0;
    REQUIRE(side_up(&a, 0) == 0 && side_up(&b, 0) == 0);
    REQUIRE(link_sides(&a, &b, 0, &ab, &ba) == P2P_OK);
    unsigned char value[] = {'v', 0, 0xff, 'w', 0x04};
    unsigned char buf[16];
    size_t len = 0;
    CHECK_RC(h_peer_get_info(a.n, ab, "k", buf, sizeof buf, &len), P2P_ENOTFOUND);
    CHECK_RC(p2p_peer_set_info(a.n, ab, "k", value, sizeof value), P2P_OK);
    value[0] = 'X'; /* the library keeps its own copy */
    memset(buf, 0xaa, sizeof buf);
    CHECK_RC(h_peer_get_info(a.n, ab, "k", buf, sizeof buf, &len), P2P_OK);
    CHECK(len == 5 && memcmp(buf, "v\0\xffw\x04", 5) == 0 && buf[5] == 0xaa);
    /* length only */
    len = 0;
    int rc = h_peer_get_info(a.n, ab, "k", NULL, 0, &len);
    CHECK(rc == P2P_OK || rc == P2P_ERANGE);
    CHECK(len == 5);
    /* truncated */
    memset(buf, 0xaa, sizeof buf);
    CHECK_RC(h_peer_get_info(a.n, ab, "k", buf, sizeof buf, NULL), P2P_OK); /* len may be NULL */
    /* overwrite, empty values, other keys, per peer */
    CHECK_RC(p2p_peer_set_info(a.n, ab, "k", "new", 3), P2P_OK);
    CHECK_RC(h_peer_get_info(a.n, ab, "k", buf, sizeof buf, &len), P2P_OK);
    CHECK(len == 3 && memcmp(buf, "new", 3) == 0);
    CHECK_RC(p2p_peer_set_info(a.n, ab, "empty", NULL, 0), P2P_OK);
    len = 99;
    CHECK_RC(h_peer_get_info(a.n, ab, "empty", buf, sizeof buf, &len), P2P_OK);
    CHECK(len == 0);
    CHECK_RC(p2p_peer_set_info(a.n, ab, "", "blank", 5), P2P_OK);
    CHECK_RC(h_peer_get_info(a.n, ab, "", buf, sizeof buf, &len), P2P_OK);
    CHECK(len == 5);
    CHECK_RC(h_peer_get_info(b.n, ba, "k", buf, sizeof buf, &len), P2P_ENOTFOUND);
    CHECK_RC(h_peer_get_info(a.n, ab, "K", buf, sizeof buf, &len), P2P_ENOTFOUND);
    /* bad arguments */
    CHECK_RC(p2p_peer_set_info(a.n, ab, NULL, "x", 1), P2P_EINVAL);
    CHECK_RC(p2p_peer_set_info(a.n, ab, "k", NULL, 1), P2P_EINVAL);
    CHECK_RC(h_peer_get_info(a.n, ab, NULL, buf, sizeof buf, &len), P2P_EINVAL);
    CHECK_RC(p2p_peer_set_info(a.n, 777777, "k", "x", 1), P2P_ENOPEER);
    CHECK_RC(h_peer_get_info(a.n, 777777, "k", buf, sizeof buf, &len), P2P_ENOPEER);
out:
    side_free(&a);
    side_free(&b);
}

/* ---- Events ---------------------------------------------------------------- */

static void check_no_peer_fields(const rec_event *e) {
    CHECK(e->peer == 0);
    CHECK(e->peer_id && strcmp(e->peer_id, "") == 0);
    CHECK(e->peer_host && strcmp(e->peer_host, "") == 0);
    CHECK(e->data == NULL && e->data_len == 0);
}

/* All eight events, their fields and their order; a is in poll or callback mode. */
static void run_all_events(int poll) {
    side a, b, c, d;
    uint64_t ab = 0, ac = 0, ca = 0, ad = 0;
    memset(&b, 0, sizeof b);
    memset(&c, 0, sizeof c);
    memset(&d, 0, sizeof d);
    char buf[64];
    REQUIRE(side_new(&a, poll, NULL) == 0);
    CHECK_RC(p2p_node_set_limit(a.n, P2P_LIMIT_RECONNECT_INTERVAL_MS, 50), P2P_OK);
    REQUIRE(side_start(&a) == P2P_OK);
    REQUIRE(side_up(&b, 0) == 0 && side_up(&c, 0) == 0 && side_up(&d, 0) == 0);
    a.r.answer = 0; /* give up on b when it is lost */
    /* OUTBOUND_CONNECTED, INBOUND_CONNECTED */
    REQUIRE(link_sides(&a, &b, 1, &ab, NULL) == P2P_OK);
    REQUIRE(link_sides(&c, &a, 0, &ca, &ac) == P2P_OK);
    const rec_event *e = rec_nth(&a.r, P2P_EVENT_OUTBOUND_CONNECTED, 0);
    CHECK(e->peer == ab && e->direction == P2P_OUTBOUND && e->peer_port == b.port && !strcmp(e->peer_id, b.id));
    e = rec_nth(&a.r, P2P_EVENT_INBOUND_CONNECTED, 0);
    CHECK(e->peer == ac && e->direction == P2P_INBOUND && e->peer_port == c.port && !strcmp(e->peer_id, c.id));
    CHECK(!strcmp(e->peer_host, "127.0.0.1"));
    /* MESSAGE from each */
    CHECK_RC(p2p_node_send(c.n, ca, "from c", 6, 0), P2P_OK);
    CHECK(WAIT_SIDE(&a, rec_count(&a.r, P2P_EVENT_MESSAGE) == 1));
    e = rec_nth(&a.r, P2P_EVENT_MESSAGE, 0);
    if (e) CHECK(e->peer == ac && e->direction == P2P_INBOUND && !strcmp(e->peer_id, c.id) && e->data_len == 6);
    /* INBOUND_DISCONNECTED: c drops a; c sees DISCONNECT_WITH_OUTBOUND first, by the time disconnect returns */
    CHECK_RC(p2p_node_disconnect(c.n, ca), P2P_OK);
    CHECK(rec_count(&c.r, P2P_EVENT_DISCONNECT_WITH_OUTBOUND) == 1);
    CHECK(WAIT_SIDE(&a, rec_count(&a.r, P2P_EVENT_INBOUND_DISCONNECTED) == 1));
    e = rec_nth(&a.r, P2P_EVENT_INBOUND_DISCONNECTED, 0);
    if (e) CHECK(e->peer == ac && e->direction == P2P_INBOUND && !strcmp(e->peer_id, c.id) && e->peer_port == c.port);
    CHECK(WAIT_UNTIL(rec_count(&c.r, P2P_EVENT_OUTBOUND_DISCONNECTED) == 1));
    CHECK(rec_index(&c.r, P2P_EVENT_DISCONNECT_WITH_OUTBOUND, 0) < rec_index(&c.r, P2P_EVENT_OUTBOUND_DISCONNECTED, 0));
    e = rec_nth(&c.r, P2P_EVENT_DISCONNECT_WITH_OUTBOUND, 0);
    if (e) CHECK(e->peer == ca && e->direction == P2P_OUTBOUND && !strcmp(e->peer_id, a.id));
    /* the handle is gone once its disconnected event was delivered: in poll
     * mode, once the poll after the one that took it has begun */
    if (poll) {
        int pp = 0;
        CHECK_RC(p2p_peer_port(a.n, ac, &pp), P2P_OK); /* still valid */
        rec_pump(a.n, &a.r, 0);
    }
    CHECK_RC(h_peer_id(a.n, ac, buf, sizeof buf), P2P_ENOPEER);
    /* DISCONNECT_WITH_OUTBOUND then OUTBOUND_DISCONNECTED on a */
    REQUIRE(link_sides(&a, &d, 0, &ad, NULL) == P2P_OK);
    CHECK_RC(p2p_node_disconnect(a.n, ad), P2P_OK);
    CHECK(WAIT_SIDE(&a, rec_count(&a.r, P2P_EVENT_OUTBOUND_DISCONNECTED) == 1));
    long iw = rec_index(&a.r, P2P_EVENT_DISCONNECT_WITH_OUTBOUND, 0);
    long id = rec_index(&a.r, P2P_EVENT_OUTBOUND_DISCONNECTED, 0);
    CHECK(iw >= 0 && id >= 0 && iw < id);
    e = rec_nth(&a.r, P2P_EVENT_DISCONNECT_WITH_OUTBOUND, 0);
    if (e) CHECK(e->peer == ad && e->direction == P2P_OUTBOUND && !strcmp(e->peer_id, d.id) && e->peer_port == d.port);
    e = rec_nth(&a.r, P2P_EVENT_OUTBOUND_DISCONNECTED, 0);
    if (e) CHECK(e->peer == ad && e->direction == P2P_OUTBOUND);
    CHECK(WAIT_UNTIL(rec_count(&d.r, P2P_EVENT_INBOUND_DISCONNECTED) == 1));
    /* a lost reconnect peer: OUTBOUND_DISCONNECTED, then RECONNECTION_ERROR */
    int bport = b.port;
    side_free(&b);
    CHECK(WAIT_SIDE(&a, rec_count(&a.r, P2P_EVENT_RECONNECTION_ERROR) == 1));
    CHECK(rec_count(&a.r, P2P_EVENT_OUTBOUND_DISCONNECTED) == 2);
    CHECK(rec_index(&a.r, P2P_EVENT_OUTBOUND_DISCONNECTED, 1) < rec_index(&a.r, P2P_EVENT_RECONNECTION_ERROR, 0));
    e = rec_nth(&a.r, P2P_EVENT_OUTBOUND_DISCONNECTED, 1);
    if (e) CHECK(e->peer == ab && !strcmp(e->peer_id, b.id) && e->peer_port == bport);
    e = rec_nth(&a.r, P2P_EVENT_RECONNECTION_ERROR, 0);
    if (e) {
        check_no_peer_fields(e);
        CHECK(e->host && !strcmp(e->host, "127.0.0.1"));
        CHECK(e->port == bport && e->trials == 1);
    }
    /* REQUEST_TO_STOP */
    CHECK_RC(p2p_node_stop(a.n), P2P_OK);
    if (poll) WAIT_POLL(a.n, &a.r, rec_count(&a.r, P2P_EVENT_REQUEST_TO_STOP) == 1);
    CHECK(rec_count(&a.r, P2P_EVENT_REQUEST_TO_STOP) == 1);
    e = rec_nth(&a.r, P2P_EVENT_REQUEST_TO_STOP, 0);
    if (e) check_no_peer_fields(e);
    /* every event: the node, reserved 0, data only on messages, thread of its own */
    pthread_t self = pthread_self();
    for (size_t i = 0; i < rec_len(&a.r); i++) {
        e = &a.r.ev[i];
        CHECKF(e->node == a.n, "event %zu (type %d) node", i, e->type);
        CHECK(e->reserved == 0);
        CHECK(e->type >= 1 && e->type <= 8);
        if (e->type != P2P_EVENT_MESSAGE) CHECK(e->data == NULL && e->data_len == 0);
        if (!poll) {
            CHECK(!pthread_equal(e->thread, self));
            CHECK(pthread_equal(e->thread, a.r.ev[0].thread));
        }
    }
    for (int t = 1; t <= 8; t++) CHECKF(rec_count(&a.r, t) >= 1, "no event of type %d", t);
out:
    side_free(&a);
    side_free(&b);
    side_free(&c);
    side_free(&d);
}
static void test_all_events_callback(void) { run_all_events(0); }
static void test_all_events_poll(void) { run_all_events(1); }

/* Stop: REQUEST_TO_STOP comes while peers are still there (a last chance to
 * send), and every disconnected event is delivered before stop returns. */
static void goodbye_hook(recorder *r, const p2p_event *ev) {
    if (ev->type == P2P_EVENT_REQUEST_TO_STOP) {
        size_t n = 0;
        h_node_peers(ev->node, P2P_ALL, NULL, 0, &n);
        int *seen = r->ctx;
        seen[0] = (int)n;
        seen[1] = p2p_node_broadcast(ev->node, "bye", 3, NULL, 0, P2P_COMPRESSION_NONE);
    }
}

static void test_stop_last_chance(void) {
    side a, b, c;
    int seen[2] = {-1, -1};
    memset(&c, 0, sizeof c);
    REQUIRE(side_up(&a, 0) == 0 && side_up(&b, 0) == 0 && side_up(&c, 0) == 0);
    a.r.hook = goodbye_hook;
    a.r.ctx = seen;
    REQUIRE(link_sides(&a, &b, 0, NULL, NULL) == P2P_OK);
    REQUIRE(link_sides(&c, &a, 0, NULL, NULL) == P2P_OK);
    CHECK_RC(p2p_node_stop(a.n), P2P_OK);
    CHECK(seen[0] == 2 && seen[1] == P2P_OK);
    CHECK(rec_count(&a.r, P2P_EVENT_OUTBOUND_DISCONNECTED) == 1);
    CHECK(rec_count(&a.r, P2P_EVENT_INBOUND_DISCONNECTED) == 1);
    CHECK(WAIT_UNTIL(rec_count_msg(&b.r, "bye", 3) == 1));
    CHECK(WAIT_UNTIL(rec_count_msg(&c.r, "bye", 3) == 1));
    CHECK(WAIT_UNTIL(rec_count(&b.r, P2P_EVENT_INBOUND_DISCONNECTED) == 1));
    CHECK(WAIT_UNTIL(rec_count(&c.r, P2P_EVENT_OUTBOUND_DISCONNECTED) == 1));
out:
    side_free(&a);
    side_free(&b);
    side_free(&c);
}

/* A peer handle still works inside its own disconnected event. */
static void disc_hook(recorder *r, const p2p_event *ev) {
    if (ev->type == P2P_EVENT_INBOUND_DISCONNECTED) {
        char id[P2P_MAX_ID_LEN + 1];
        int *rc = r->ctx;
        *rc = h_peer_id(ev->node, ev->peer, id, sizeof id);
        if (*rc == P2P_OK && strcmp(id, ev->peer_id) != 0) *rc = -999;
    }
}

static void test_handle_valid_in_disconnect_event(void) {
    side a, b;
    uint64_t ab = 0, ba = 0;
    int rc = 1;
    REQUIRE(side_up(&a, 0) == 0 && side_up(&b, 0) == 0);
    b.r.hook = disc_hook;
    b.r.ctx = &rc;
    REQUIRE(link_sides(&a, &b, 0, &ab, &ba) == P2P_OK);
    CHECK_RC(p2p_node_disconnect(a.n, ab), P2P_OK);
    CHECK(WAIT_UNTIL(rec_count(&b.r, P2P_EVENT_INBOUND_DISCONNECTED) == 1));
    CHECK_RC(rc, P2P_OK);
    char buf[8];
    CHECK_RC(h_peer_id(b.n, ba, buf, sizeof buf), P2P_ENOPEER);
out:
    side_free(&a);
    side_free(&b);
}

/* ---- Reconnection ---------------------------------------------------------- */

typedef struct reco_ctx {
    int no_port;    /* questions about this port are answered 0 */
    int yes_answer; /* what the others get */
} reco_ctx;

static void reco_hook(recorder *r, const p2p_event *ev) {
    reco_ctx *c = r->ctx;
    if (ev->type == P2P_EVENT_RECONNECTION_ERROR) {
        pthread_mutex_lock(&r->mu);
        r->answer = ev->port == c->no_port ? 0 : c->yes_answer;
        pthread_mutex_unlock(&r->mu);
    }
}

static size_t questions_about(recorder *r, int port) {
    size_t n = 0;
    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < r->n; i++)
        if (r->ev[i].type == P2P_EVENT_RECONNECTION_ERROR && r->ev[i].port == port) n++;
    pthread_mutex_unlock(&r->mu);
    return n;
}

/* Answer 0 for b: asked once (trials 1), never again, and not redialled when b
 * is back. c, lost too and answered yes, is the clock that shows time passing. */
static void run_reconnect_give_up(int poll) {
    side a, b, c, b2;
    reco_ctx ctx = {0, 1};
    memset(&b, 0, sizeof b);
    memset(&c, 0, sizeof c);
    memset(&b2, 0, sizeof b2);
    REQUIRE(side_new(&a, poll, NULL) == 0);
    CHECK_RC(p2p_node_set_limit(a.n, P2P_LIMIT_RECONNECT_INTERVAL_MS, 30), P2P_OK);
    REQUIRE(side_start(&a) == P2P_OK);
    a.r.hook = reco_hook;
    a.r.ctx = &ctx;
    REQUIRE(side_up(&b, 0) == 0 && side_up(&c, 0) == 0);
    REQUIRE(link_sides(&a, &b, 1, NULL, NULL) == P2P_OK);
    REQUIRE(link_sides(&a, &c, 1, NULL, NULL) == P2P_OK);
    int bport = b.port, cport = c.port;
    ctx.no_port = bport;
    side_free(&b);
    side_free(&c);
    CHECK(WAIT_SIDE(&a, questions_about(&a.r, cport) >= 3));
    CHECK(questions_about(&a.r, bport) == 1);
    const rec_event *e = rec_nth(&a.r, P2P_EVENT_RECONNECTION_ERROR, 0);
    CHECK(e && e->trials == 1);
    /* b comes back on its port: a does not call */
    REQUIRE(side_new(&b2, 0, NULL) == 0);
    p2p_node_free(b2.n);
    REQUIRE(p2p_node_new("127.0.0.1", bport, NULL, 0, &b2.n) == P2P_OK);
    p2p_node_set_callback(b2.n, rec_callback, &b2.r);
    REQUIRE(p2p_node_start(b2.n) == P2P_OK);
    size_t now = questions_about(&a.r, cport);
    CHECK(WAIT_SIDE(&a, questions_about(&a.r, cport) >= now + 3));
    CHECK(questions_about(&a.r, bport) == 1);
    CHECK(rec_count(&b2.r, P2P_EVENT_INBOUND_CONNECTED) == 0);
    CHECK(rec_count(&a.r, P2P_EVENT_OUTBOUND_CONNECTED) == 2);
    /* c's trials count up */
    int last = 0, increasing = 1;
    pthread_mutex_lock(&a.r.mu);
    for (size_t i = 0; i < a.r.n; i++)
        if (a.r.ev[i].type == P2P_EVENT_RECONNECTION_ERROR && a.r.ev[i].port == cport) {
            if (a.r.ev[i].trials != last + 1) increasing = 0;
            last = a.r.ev[i].trials;
        }
    pthread_mutex_unlock(&a.r.mu);
    CHECK(increasing);
out:
    side_free(&a);
    side_free(&b);
    side_free(&c);
    side_free(&b2);
}
static void test_reconnect_give_up_callback(void) { run_reconnect_give_up(0); }
static void test_reconnect_give_up_poll(void) { run_reconnect_give_up(1); }

/* A yes (1, or any non-zero: 42, -7; in poll mode also no reply at all)
 * redials b until it is back on the same port. */
static void run_reconnect_yes(int poll, int answer) {
    side a, b, b2;
    uint64_t ab = 0;
    memset(&b, 0, sizeof b);
    memset(&b2, 0, sizeof b2);
    REQUIRE(side_new(&a, poll, NULL) == 0);
    CHECK_RC(p2p_node_set_limit(a.n, P2P_LIMIT_RECONNECT_INTERVAL_MS, 30), P2P_OK);
    REQUIRE(side_start(&a) == P2P_OK);
    a.r.answer = answer;
    REQUIRE(side_up(&b, 0) == 0);
    REQUIRE(link_sides(&a, &b, 1, &ab, NULL) == P2P_OK);
    int bport = b.port;
    side_free(&b);
    CHECK(WAIT_SIDE(&a, rec_count(&a.r, P2P_EVENT_RECONNECTION_ERROR) >= 2));
    rec_init(&b2.r, 256);
    REQUIRE(p2p_node_new("127.0.0.1", bport, "b-again", 0, &b2.n) == P2P_OK);
    p2p_node_set_callback(b2.n, rec_callback, &b2.r);
    REQUIRE(p2p_node_start(b2.n) == P2P_OK);
    CHECK(WAIT_SIDE(&a, rec_count(&a.r, P2P_EVENT_OUTBOUND_CONNECTED) == 2));
    CHECK(WAIT_UNTIL(rec_count(&b2.r, P2P_EVENT_INBOUND_CONNECTED) == 1));
    const rec_event *e = rec_nth(&a.r, P2P_EVENT_OUTBOUND_CONNECTED, 1);
    if (e) {
        CHECK(e->peer_port == bport && !strcmp(e->peer_id, "b-again"));
        CHECK(e->peer != ab); /* a new handle */
        CHECK_RC(p2p_node_send(a.n, e->peer, "again", 5, 0), P2P_OK);
        CHECK(WAIT_UNTIL(rec_count_msg(&b2.r, "again", 5) == 1));
    }
    e = rec_nth(&b2.r, P2P_EVENT_INBOUND_CONNECTED, 0);
    if (e) CHECK(!strcmp(e->peer_id, a.id));
    /* trials count 1, 2, ... */
    for (size_t i = 0; i < 2; i++) {
        e = rec_nth(&a.r, P2P_EVENT_RECONNECTION_ERROR, i);
        CHECK(e && e->trials == (int)i + 1 && e->port == bport);
    }
out:
    side_free(&a);
    side_free(&b);
    side_free(&b2);
}
static void test_reconnect_yes_callback(void) { run_reconnect_yes(0, 1); }
static void test_reconnect_garbage_42_callback(void) { run_reconnect_yes(0, 42); }
static void test_reconnect_garbage_minus7_callback(void) { run_reconnect_yes(0, -7); }
static void test_reconnect_yes_poll(void) { run_reconnect_yes(1, 1); }
static void test_reconnect_garbage_42_poll(void) { run_reconnect_yes(1, 42); }
static void test_reconnect_unanswered_poll(void) { run_reconnect_yes(1, NO_REPLY); }

/* Disconnecting a reconnect peer ourselves ends the reconnecting. */
static void test_disconnect_ends_reconnect(void) {
    side a, b, c;
    uint64_t ab = 0;
    memset(&b, 0, sizeof b);
    memset(&c, 0, sizeof c);
    REQUIRE(side_new(&a, 0, NULL) == 0);
    CHECK_RC(p2p_node_set_limit(a.n, P2P_LIMIT_RECONNECT_INTERVAL_MS, 30), P2P_OK);
    REQUIRE(side_start(&a) == P2P_OK);
    REQUIRE(side_up(&b, 0) == 0 && side_up(&c, 0) == 0);
    REQUIRE(link_sides(&a, &b, 1, &ab, NULL) == P2P_OK);
    REQUIRE(link_sides(&a, &c, 1, NULL, NULL) == P2P_OK);
    int cport = c.port;
    side_free(&c); /* the clock */
    CHECK_RC(p2p_node_disconnect(a.n, ab), P2P_OK);
    CHECK(WAIT_UNTIL(questions_about(&a.r, cport) >= 4));
    CHECK(questions_about(&a.r, b.port) == 0);
    CHECK(rec_count(&b.r, P2P_EVENT_INBOUND_CONNECTED) == 1);
out:
    side_free(&a);
    side_free(&b);
    side_free(&c);
}

/* ---- Calls from inside the callback ----------------------------------------- */

typedef struct inside {
    int c_port;
    uint64_t to_c;
    int rc_send, rc_broadcast, rc_connect, rc_connect_dup, rc_info, rc_disconnect_out, rc_disconnect_in;
    size_t peers;
    int ev_intact; /* the event was unchanged after a nested event */
    int done;      /* commands handled */
} inside;

static int is_cmd(const p2p_event *ev, const char *cmd) {
    size_t n = strlen(cmd);
    return ev->type == P2P_EVENT_MESSAGE && ev->data_len == n && memcmp(ev->data, cmd, n) == 0;
}

static void inside_hook(recorder *r, const p2p_event *ev) {
    inside *s = r->ctx;
    int handled = 1;
    if (is_cmd(ev, "send")) {
        s->rc_send = p2p_node_send(ev->node, ev->peer, "pong", 4, P2P_COMPRESSION_BZIP2);
    } else if (is_cmd(ev, "broadcast")) {
        s->rc_broadcast = p2p_node_broadcast(ev->node, "all", 3, NULL, 0, 0);
    } else if (is_cmd(ev, "peers")) {
        uint64_t list[8];
        h_node_peers(ev->node, P2P_ALL, list, 8, &s->peers);
    } else if (is_cmd(ev, "connect")) {
        s->rc_connect = p2p_node_connect(ev->node, "127.0.0.1", s->c_port, 0, &s->to_c);
        s->rc_connect_dup = p2p_node_connect(ev->node, "127.0.0.1", s->c_port, 0, NULL);
    } else if (is_cmd(ev, "info")) {
        char buf[8];
        size_t len = 0;
        s->rc_info = p2p_peer_set_info(ev->node, ev->peer, "seen", "yes", 3);
        if (s->rc_info == P2P_OK) s->rc_info = h_peer_get_info(ev->node, ev->peer, "seen", buf, 8, &len);
        if (s->rc_info == P2P_OK && (len != 3 || memcmp(buf, "yes", 3))) s->rc_info = -999;
    } else if (is_cmd(ev, "disconnect-c")) {
        /* an outbound peer: DISCONNECT_WITH_OUTBOUND is raised inside this call */
        s->rc_disconnect_out = p2p_node_disconnect(ev->node, s->to_c);
        s->ev_intact = ev->type == P2P_EVENT_MESSAGE && ev->data_len == 12 &&
                       memcmp(ev->data, "disconnect-c", 12) == 0 && ev->direction == P2P_INBOUND;
    } else if (is_cmd(ev, "disconnect-me")) {
        s->rc_disconnect_in = p2p_node_disconnect(ev->node, ev->peer);
    } else {
        handled = 0;
    }
    if (handled) __atomic_add_fetch(&s->done, 1, __ATOMIC_SEQ_CST);
}

static void send_cmd(side *from, uint64_t peer, const char *cmd) {
    CHECK_RC(p2p_node_send(from->n, peer, cmd, strlen(cmd), P2P_COMPRESSION_NONE), P2P_OK);
}

static void test_calls_inside_callback(void) {
    side a, b, c;
    inside s;
    uint64_t ab = 0;
    memset(&s, 0, sizeof s);
    memset(&c, 0, sizeof c);
    s.rc_send = s.rc_broadcast = s.rc_connect = s.rc_info = s.rc_disconnect_out = s.rc_disconnect_in = 1;
    REQUIRE(side_up(&a, 0) == 0 && side_up(&b, 0) == 0 && side_up(&c, 0) == 0);
    b.r.hook = inside_hook;
    b.r.ctx = &s;
    s.c_port = c.port;
    REQUIRE(link_sides(&a, &b, 0, &ab, NULL) == P2P_OK);
    send_cmd(&a, ab, "send");
    CHECK(WAIT_UNTIL(rec_count_msg(&a.r, "pong", 4) == 1));
    CHECK_RC(s.rc_send, P2P_OK);
    send_cmd(&a, ab, "connect");
    CHECK(WAIT_UNTIL(__atomic_load_n(&s.done, __ATOMIC_SEQ_CST) == 2));
    CHECK_RC(s.rc_connect, P2P_OK);
    CHECK_RC(s.rc_connect_dup, P2P_EALREADY);
    CHECK(WAIT_UNTIL(rec_count(&c.r, P2P_EVENT_INBOUND_CONNECTED) == 1));
    send_cmd(&a, ab, "peers");
    CHECK(WAIT_UNTIL(__atomic_load_n(&s.done, __ATOMIC_SEQ_CST) == 3));
    CHECK(s.peers == 2);
    send_cmd(&a, ab, "broadcast");
    CHECK(WAIT_UNTIL(rec_count_msg(&a.r, "all", 3) == 1));
    CHECK(WAIT_UNTIL(rec_count_msg(&c.r, "all", 3) == 1));
    CHECK_RC(s.rc_broadcast, P2P_OK);
    send_cmd(&a, ab, "info");
    CHECK(WAIT_UNTIL(__atomic_load_n(&s.done, __ATOMIC_SEQ_CST) == 5));
    CHECK_RC(s.rc_info, P2P_OK);
    send_cmd(&a, ab, "disconnect-c");
    CHECK(WAIT_UNTIL(rec_count(&b.r, P2P_EVENT_OUTBOUND_DISCONNECTED) == 1));
    CHECK_RC(s.rc_disconnect_out, P2P_OK);
    CHECK(rec_count(&b.r, P2P_EVENT_DISCONNECT_WITH_OUTBOUND) == 1);
    CHECK(WAIT_UNTIL(rec_count(&c.r, P2P_EVENT_INBOUND_DISCONNECTED) == 1));
    send_cmd(&a, ab, "disconnect-me");
    CHECK(WAIT_UNTIL(rec_count(&a.r, P2P_EVENT_OUTBOUND_DISCONNECTED) == 1));
    CHECK(WAIT_UNTIL(rec_count(&b.r, P2P_EVENT_INBOUND_DISCONNECTED) == 1));
    CHECK_RC(s.rc_disconnect_in, P2P_OK);
out:
    side_free(&a);
    side_free(&b);
    side_free(&c);
}

/* The event a callback is handling stays as it was while the callback makes
 * a call that raises an event of its own (disconnecting an outbound peer
 * raises DISCONNECT_WITH_OUTBOUND inline). The header: "Everything the event
 * points to is owned by the library and valid until the callback returns". */
static void test_event_intact_after_nested_event(void) {
    side a, b, c;
    inside s;
    uint64_t ab = 0;
    memset(&s, 0, sizeof s);
    memset(&c, 0, sizeof c);
    REQUIRE(side_up(&a, 0) == 0 && side_up(&b, 0) == 0 && side_up(&c, 0) == 0);
    b.r.hook = inside_hook;
    b.r.ctx = &s;
    REQUIRE(link_sides(&a, &b, 0, &ab, NULL) == P2P_OK);
    REQUIRE(link_sides(&b, &c, 0, &s.to_c, NULL) == P2P_OK);
    send_cmd(&a, ab, "disconnect-c");
    CHECK(WAIT_UNTIL(__atomic_load_n(&s.done, __ATOMIC_SEQ_CST) == 1));
    CHECK_RC(s.rc_disconnect_out, P2P_OK);
    CHECKF(s.ev_intact, "the MESSAGE event was overwritten by the nested DISCONNECT_WITH_OUTBOUND");
out:
    side_free(&a);
    side_free(&b);
    side_free(&c);
}

typedef struct stopper {
    int rc;
    int returned;
    int which; /* 0: stop, 1: free */
    int after_rc[8];
    int after_n;
} stopper;

static void stop_hook(recorder *r, const p2p_event *ev) {
    stopper *s = r->ctx;
    if (is_cmd(ev, "stop") || is_cmd(ev, "free")) {
        s->rc = s->which ? p2p_node_free(ev->node) : p2p_node_stop(ev->node);
        /* still inside: a call on the node */
        if (s->after_n < 8) s->after_rc[s->after_n++] = p2p_node_send(ev->node, ev->peer, "late", 4, 0);
        __atomic_store_n(&s->returned, 1, __ATOMIC_SEQ_CST);
    } else if (__atomic_load_n(&s->returned, __ATOMIC_SEQ_CST) && s->after_n < 8) {
        int port;
        s->after_rc[s->after_n++] = p2p_node_port(ev->node, &port);
    }
}

static void test_stop_inside_callback(void) {
    side a, b;
    stopper s;
    uint64_t ab = 0;
    memset(&s, 0, sizeof s);
    REQUIRE(side_up(&a, 0) == 0 && side_up(&b, 0) == 0);
    b.r.hook = stop_hook;
    b.r.ctx = &s;
    REQUIRE(link_sides(&a, &b, 0, &ab, NULL) == P2P_OK);
    send_cmd(&a, ab, "stop");
    CHECK(WAIT_UNTIL(__atomic_load_n(&s.returned, __ATOMIC_SEQ_CST)));
    CHECK_RC(s.rc, P2P_OK);
    CHECK(WAIT_UNTIL(rec_count(&b.r, P2P_EVENT_INBOUND_DISCONNECTED) == 1));
    CHECK(WAIT_UNTIL(rec_count(&a.r, P2P_EVENT_OUTBOUND_DISCONNECTED) == 1));
    CHECK(rec_count(&b.r, P2P_EVENT_REQUEST_TO_STOP) == 1);
    /* REQUEST_TO_STOP came after the callback that asked for it */
    CHECK(rec_index(&b.r, P2P_EVENT_MESSAGE, 0) < rec_index(&b.r, P2P_EVENT_REQUEST_TO_STOP, 0));
    CHECK_RC(p2p_node_stop(b.n), P2P_OK); /* waits for the end, idempotent */
    CHECK_RC(p2p_node_connect(b.n, "127.0.0.1", a.port, 0, NULL), P2P_ESTOPPED);
    CHECK_RC(p2p_node_start(b.n), P2P_ESTOPPED);
out:
    side_free(&a);
    side_free(&b);
}

static stopper free_inside_state; /* outlives the node, whose thread may still call */
static recorder free_inside_rec;

static void test_free_inside_callback(void) {
    side a;
    p2p_node *b = NULL;
    uint64_t ab = 0;
    memset(&free_inside_state, 0, sizeof free_inside_state);
    free_inside_state.which = 1;
    rec_init(&free_inside_rec, 64);
    free_inside_rec.hook = stop_hook;
    free_inside_rec.ctx = &free_inside_state;
    REQUIRE(side_up(&a, 0) == 0);
    REQUIRE((b = mk_node(&free_inside_rec, NULL)) != NULL);
    REQUIRE(p2p_node_start(b) == P2P_OK);
    REQUIRE(p2p_node_connect(a.n, "127.0.0.1", node_port(b), 0, &ab) == P2P_OK);
    send_cmd(&a, ab, "free");
    CHECK(WAIT_UNTIL(__atomic_load_n(&free_inside_state.returned, __ATOMIC_SEQ_CST)));
    CHECK_RC(free_inside_state.rc, P2P_OK);
    CHECK(free_inside_state.after_n >= 1 && free_inside_state.after_rc[0] == P2P_EHANDLE);
    /* the node went away: its peer saw it */
    CHECK(WAIT_UNTIL(rec_count(&a.r, P2P_EVENT_OUTBOUND_DISCONNECTED) == 1));
    int port;
    CHECK_RC(p2p_node_port(b, &port), P2P_EHANDLE);
    CHECK_RC(p2p_node_stop(b), P2P_EHANDLE);
    CHECK_RC(p2p_node_free(b), P2P_EHANDLE);
    /* whatever events came after the free saw a freed handle */
    for (int i = 1; i < free_inside_state.after_n; i++) CHECK(free_inside_state.after_rc[i] == P2P_EHANDLE);
out:
    side_free(&a);
    /* free_inside_rec stays: the freed node's thread may still deliver into it */
}

/* Free from another thread while the callback is busy: free waits for it. */
typedef struct slow {
    volatile int in_callback;
    volatile int release;
    volatile int finished;
} slow;

static void slow_hook(recorder *r, const p2p_event *ev) {
    slow *s = r->ctx;
    if (is_cmd(ev, "slow")) {
        __atomic_store_n(&s->in_callback, 1, __ATOMIC_SEQ_CST);
        while (!__atomic_load_n(&s->release, __ATOMIC_SEQ_CST)) h_nap();
        __atomic_store_n(&s->finished, 1, __ATOMIC_SEQ_CST);
    }
}

typedef struct freer {
    p2p_node *n;
    int rc;
    volatile int done;
} freer;

static void *free_thread(void *arg) {
    freer *f = arg;
    f->rc = p2p_node_free(f->n);
    __atomic_store_n(&f->done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

static void test_free_waits_for_callback(void) {
    side a, b;
    slow s = {0, 0, 0};
    freer f = {0};
    uint64_t ab = 0;
    pthread_t t;
    REQUIRE(side_up(&a, 0) == 0 && side_up(&b, 0) == 0);
    b.r.hook = slow_hook;
    b.r.ctx = &s;
    REQUIRE(link_sides(&a, &b, 0, &ab, NULL) == P2P_OK);
    send_cmd(&a, ab, "slow");
    REQUIRE(WAIT_UNTIL(__atomic_load_n(&s.in_callback, __ATOMIC_SEQ_CST)));
    f.n = b.n;
    pthread_create(&t, NULL, free_thread, &f);
    /* free is blocked while the callback runs; the handle reads as freed already */
    int port;
    CHECK(WAIT_UNTIL(p2p_node_port(b.n, &port) == P2P_EHANDLE));
    CHECK(!__atomic_load_n(&f.done, __ATOMIC_SEQ_CST));
    __atomic_store_n(&s.release, 1, __ATOMIC_SEQ_CST);
    pthread_join(t, NULL);
    CHECK_RC(f.rc, P2P_OK);
    CHECK(s.finished);
    b.n = NULL;
out:
    if (!s.release) __atomic_store_n(&s.release, 1, __ATOMIC_SEQ_CST);
    side_free(&a);
    side_free(&b);
}

/* ---- Threads ---------------------------------------------------------------- */

typedef struct sender {
    p2p_node *n;
    uint64_t peer;
    int tag, count, failures;
} sender;

static void *send_many(void *arg) {
    sender *s = arg;
    for (int i = 0; i < s->count; i++) {
        char msg[32];
        int len = snprintf(msg, sizeof msg, "%d:%d", s->tag, i);
        if (p2p_node_send(s->n, s->peer, msg, (size_t)len, i % 2 ? P2P_COMPRESSION_ZLIB : 0) != P2P_OK)
            s->failures++;
    }
    return NULL;
}

static void test_concurrent_senders(void) {
    side a, b;
    uint64_t ab = 0;
    enum { THREADS = 4, EACH = 500 };
    pthread_t t[THREADS];
    sender s[THREADS];
    REQUIRE(side_up(&a, 0) == 0 && side_up(&b, 0) == 0);
    REQUIRE(link_sides(&a, &b, 0, &ab, NULL) == P2P_OK);
    for (int i = 0; i < THREADS; i++) {
        s[i] = (sender){a.n, ab, i, EACH, 0};
        pthread_create(&t[i], NULL, send_many, &s[i]);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        CHECK(s[i].failures == 0);
    }
    CHECK(WAIT_UNTIL(rec_count(&b.r, P2P_EVENT_MESSAGE) == THREADS * EACH));
    int next[THREADS] = {0}, ordered = 1;
    for (size_t i = 0; i < rec_count(&b.r, P2P_EVENT_MESSAGE); i++) {
        const rec_event *e = rec_nth(&b.r, P2P_EVENT_MESSAGE, i);
        int tag = -1, seq = -1;
        if (sscanf((char *)e->data, "%d:%d", &tag, &seq) != 2 || tag < 0 || tag >= THREADS || seq != next[tag]) {
            ordered = 0;
            break;
        }
        next[tag]++;
    }
    CHECK(ordered);
out:
    side_free(&a);
    side_free(&b);
}

/* A full send queue: a peer that does not read makes sends fail with EFULL. */
static void test_send_queue_full(void) {
    side a, b;
    uint64_t ab = 0;
    size_t len = 256 * 1024;
    char *chunk = malloc(len);
    memset(chunk, 'f', len);
    chunk[0] = 'x';
    REQUIRE(side_new(&a, 0, NULL) == 0 && side_new(&b, 1, NULL) == 0);
    CHECK_RC(p2p_node_set_limit(a.n, P2P_LIMIT_MAX_QUEUED_BYTES, 1 << 20), P2P_OK);
    CHECK_RC(p2p_node_set_limit(a.n, P2P_LIMIT_SEND_TIMEOUT_MS, 100), P2P_OK);
    /* plaintext: a native link's writes have a deadline of the send timeout
     * each, so the stalled peer is dropped (ENOPEER) before a send sees EFULL */
    CHECK_RC(p2p_node_set_limit(a.n, P2P_LIMIT_ENCRYPTION, P2P_ENCRYPTION_OFF), P2P_OK);
    CHECK_RC(p2p_node_set_limit(b.n, P2P_LIMIT_MAX_PENDING_EVENTS, 2), P2P_OK);
    REQUIRE(side_start(&a) == P2P_OK && side_start(&b) == P2P_OK);
    REQUIRE(link_sides(&a, &b, 0, &ab, NULL) == P2P_OK);
    int rc = P2P_OK, sent = 0;
    for (; sent < 2000 && rc == P2P_OK; sent++) rc = p2p_node_send(a.n, ab, chunk, len, P2P_COMPRESSION_NONE);
    CHECK_RC(rc, P2P_EFULL);
    CHECK(strlen(p2p_errmsg()) > 0);
out:
    free(chunk);
    side_free(&b); /* b first: it stops reading for good, so a's close does not wait */
    side_free(&a);
}

/* Poll mode: p2p_node_stop from the polling thread returns at once, even with
 * the poll queue full; polling on then yields every message, REQUEST_TO_STOP
 * (the node holds there until the next poll, so a goodbye sent then still
 * reaches the peers) and the disconnected event, then P2P_ESTOPPED. */
static void test_stop_from_poll_thread(void) {
    side a, b;
    uint64_t ab = 0, ba = 0;
    REQUIRE(side_up(&a, 0) == 0 && side_new(&b, 1, NULL) == 0);
    CHECK_RC(p2p_node_set_limit(b.n, P2P_LIMIT_MAX_PENDING_EVENTS, 4), P2P_OK);
    REQUIRE(side_start(&b) == P2P_OK);
    REQUIRE(link_sides(&a, &b, 0, &ab, &ba) == P2P_OK); /* this thread polled b: it is b's poller */
    for (int i = 0; i < 50; i++) CHECK_RC(p2p_node_send(a.n, ab, "m", 1, 0), P2P_OK);
    p2p_counters c;
    CHECK(WAIT_UNTIL(p2p_node_counters(b.n, &c) == P2P_OK && c.received >= 10));
    CHECK_RC(p2p_node_stop(b.n), P2P_OK); /* returns at once from the poller */
    p2p_event evs[8];
    size_t n = 0;
    int rc, said_bye = 0;
    int64_t until = h_now_ms() + WAIT_MS;
    while ((rc = p2p_node_poll(b.n, evs, 8, 100, &n)) == P2P_OK && h_now_ms() < until) {
        for (size_t i = 0; i < n; i++) {
            rec_add(&b.r, &evs[i]);
            if (evs[i].type == P2P_EVENT_REQUEST_TO_STOP) {
                CHECK(peer_count(b.n, P2P_ALL) == 1);
                CHECK_RC(p2p_node_send(b.n, ba, "bye", 3, 0), P2P_OK);
                said_bye = 1;
            }
        }
    }
    CHECK_RC(rc, P2P_ESTOPPED);
    CHECK(said_bye);
    CHECK(rec_count(&b.r, P2P_EVENT_MESSAGE) == 50);
    CHECK(rec_count(&b.r, P2P_EVENT_INBOUND_DISCONNECTED) == 1);
    CHECK(rec_index(&b.r, P2P_EVENT_REQUEST_TO_STOP, 0) < rec_index(&b.r, P2P_EVENT_INBOUND_DISCONNECTED, 0));
    CHECK(WAIT_UNTIL(rec_count_msg(&a.r, "bye", 3) == 1));
    CHECK(WAIT_UNTIL(rec_count(&a.r, P2P_EVENT_OUTBOUND_DISCONNECTED) == 1));
    CHECK(rec_index(&a.r, P2P_EVENT_MESSAGE, 0) < rec_index(&a.r, P2P_EVENT_OUTBOUND_DISCONNECTED, 0));
out:
    side_free(&b);
    side_free(&a);
}

/* p2p_node_request_stop returns at once, even while the node's callback holds
 * REQUEST_TO_STOP (a blocking stop would wait for that callback); the closes
 * and disconnected events follow; p2p_node_stop then waits for the end. */
typedef struct stop_gate {
    volatile int open, held, waited_out;
} stop_gate;

static void gate_hook(recorder *r, const p2p_event *ev) {
    stop_gate *g = r->ctx;
    if (ev->type != P2P_EVENT_REQUEST_TO_STOP) return;
    __atomic_store_n(&g->held, 1, __ATOMIC_SEQ_CST);
    if (!WAIT_UNTIL(__atomic_load_n(&g->open, __ATOMIC_SEQ_CST)))
        __atomic_store_n(&g->waited_out, 1, __ATOMIC_SEQ_CST);
}

static void test_request_stop(void) {
    side a, b;
    stop_gate g = {0, 0, 0};
    REQUIRE(side_up(&a, 0) == 0 && side_new(&b, 0, NULL) == 0);
    b.r.hook = gate_hook;
    b.r.ctx = &g;
    REQUIRE(side_start(&b) == P2P_OK);
    REQUIRE(link_sides(&a, &b, 0, NULL, NULL) == P2P_OK);
    CHECK_RC(p2p_node_request_stop(b.n), P2P_OK); /* returns with the callback held */
    CHECK(WAIT_UNTIL(__atomic_load_n(&g.held, __ATOMIC_SEQ_CST)));
    CHECK(rec_count(&b.r, P2P_EVENT_INBOUND_DISCONNECTED) == 0); /* peers wait for the callback */
    CHECK_RC(p2p_node_request_stop(b.n), P2P_OK); /* idempotent */
    __atomic_store_n(&g.open, 1, __ATOMIC_SEQ_CST);
    CHECK_RC(p2p_node_stop(b.n), P2P_OK); /* waits for the end */
    CHECK(!g.waited_out);
    CHECK(rec_count(&b.r, P2P_EVENT_REQUEST_TO_STOP) == 1);
    CHECK(rec_count(&b.r, P2P_EVENT_INBOUND_DISCONNECTED) == 1);
    CHECK(WAIT_UNTIL(rec_count(&a.r, P2P_EVENT_OUTBOUND_DISCONNECTED) == 1));
    CHECK_RC(p2p_node_free(b.n), P2P_OK);
    CHECK_RC(p2p_node_request_stop(b.n), P2P_EHANDLE);
    b.n = NULL;
out:
    side_free(&b);
    side_free(&a);
}

/* No event reaches the callback once p2p_node_free has returned. */
typedef struct after_free {
    volatile int freed;
    volatile int late;
} after_free;

static void late_hook(recorder *r, const p2p_event *ev) {
    after_free *f = r->ctx;
    (void)ev;
    if (__atomic_load_n(&f->freed, __ATOMIC_SEQ_CST)) __atomic_add_fetch(&f->late, 1, __ATOMIC_SEQ_CST);
}

static void test_no_events_after_free(void) {
    side a, b;
    after_free f = {0, 0};
    uint64_t ab = 0;
    REQUIRE(side_up(&a, 0) == 0 && side_up(&b, 0) == 0);
    b.r.hook = late_hook;
    b.r.ctx = &f;
    REQUIRE(link_sides(&a, &b, 0, &ab, NULL) == P2P_OK);
    for (int i = 0; i < 200; i++) p2p_node_send(a.n, ab, "flood", 5, 0);
    CHECK_RC(p2p_node_free(b.n), P2P_OK);
    __atomic_store_n(&f.freed, 1, __ATOMIC_SEQ_CST);
    b.n = NULL;
    CHECK(WAIT_UNTIL(rec_count(&a.r, P2P_EVENT_OUTBOUND_DISCONNECTED) == 1));
    CHECK(__atomic_load_n(&f.late, __ATOMIC_SEQ_CST) == 0);
    CHECK(rec_count(&b.r, P2P_EVENT_REQUEST_TO_STOP) == 0); /* free, unlike stop, shows no stopping */
out:
    side_free(&a);
    side_free(&b);
}

/* ---- Misuse ----------------------------------------------------------------- */

/* Calls function i with node and otherwise valid arguments. */
#define N_NODE_FUNCS 38
static const char *NODE_FUNC_NAMES[N_NODE_FUNCS] = {
    "node_set_callback", "node_set_limit", "node_get_limit", "node_set_debug", "node_get_debug",
    "node_start", "node_stop", "node_id", "node_host", "node_port", "node_counters", "node_peers",
    "node_connect", "node_disconnect", "node_send", "node_broadcast", "peer_id", "peer_host",
    "peer_port", "peer_direction", "peer_set_info", "peer_get_info", "node_poll", "node_reply",
    "secure_key_generate", "secure_key_load", "secure_key_save", "secure_public_key",
    "secure_send_message", "secure_send", "secure_broadcast", "secure_send_ping",
    "secure_send_discovery", "secure_create_message", "secure_pin", "secure_pinned_key",
    "peer_counters", "node_free"};

static int call_node_func(int i, p2p_node *n, uint64_t peer) {
    char buf[64];
    int v = 0;
    int64_t v64 = 0;
    size_t count = 0;
    uint64_t list[4];
    p2p_counters c;
    p2p_event evs[2];
    recorder dummy;
    switch (i) {
    case 0: return p2p_node_set_callback(n, rec_callback, &dummy);
    case 1: return p2p_node_set_limit(n, P2P_LIMIT_MAX_CONNECTIONS, 1);
    case 2: return p2p_node_get_limit(n, P2P_LIMIT_MAX_CONNECTIONS, &v64);
    case 3: return p2p_node_set_debug(n, 1);
    case 4: return p2p_node_get_debug(n, &v);
    case 5: return p2p_node_start(n);
    case 6: return p2p_node_stop(n);
    case 7: return h_node_id(n, buf, sizeof buf);
    case 8: return h_node_host(n, buf, sizeof buf);
    case 9: return p2p_node_port(n, &v);
    case 10: return p2p_node_counters(n, &c);
    case 11: return h_node_peers(n, P2P_ALL, list, 4, &count);
    case 12: return p2p_node_connect(n, "127.0.0.1", 1, 0, NULL);
    case 13: return p2p_node_disconnect(n, peer);
    case 14: return p2p_node_send(n, peer, "x", 1, 0);
    case 15: return p2p_node_broadcast(n, "x", 1, NULL, 0, 0);
    case 16: return h_peer_id(n, peer, buf, sizeof buf);
    case 17: return h_peer_host(n, peer, buf, sizeof buf);
    case 18: return p2p_peer_port(n, peer, &v);
    case 19: return p2p_peer_direction(n, peer, &v);
    case 20: return p2p_peer_set_info(n, peer, "k", "v", 1);
    case 21: return h_peer_get_info(n, peer, "k", buf, sizeof buf, &count);
    case 22: return p2p_node_poll(n, evs, 2, 0, &count);
    case 23: return p2p_node_reply(n, 1);
    case 24: return p2p_secure_key_generate(n, 2048);
    case 25: return p2p_secure_key_load(n, "/nonexistent.key", NULL);
    case 26: return p2p_secure_key_save(n, "/tmp/never-written.key", "pw", P2P_KEY_FORMAT_P2PNODE);
    case 27: return h_secure_public_key(n, buf, sizeof buf);
    case 28: return p2p_secure_send_message(n, "1", 1);
    case 29: return p2p_secure_send(n, peer, "{}", 2);
    case 30: return p2p_secure_broadcast(n, "{}", 2, NULL, 0);
    case 31: return p2p_secure_send_ping(n);
    case 32: return p2p_secure_send_discovery(n);
    case 33: return h_secure_create_message(n, "{}", 2, buf, sizeof buf, &count);
    case 34: return p2p_secure_pin(n, "id", NULL);
    case 35: return h_secure_pinned_key(n, "id", buf, sizeof buf);
    case 36: return p2p_peer_counters(n, peer, &c);
    case 37: return p2p_node_free(n);
    }
    return 12345;
}

static void check_all_funcs(p2p_node *n, uint64_t peer, int want, const char *what) {
    for (int i = 0; i < N_NODE_FUNCS; i++) {
        int rc = call_node_func(i, n, peer);
        CHECKF(rc == want, "%s: p2p_%s returned %d (%s), want %d", what, NODE_FUNC_NAMES[i], rc,
               p2p_strerror(rc), want);
        CHECKF(rc == P2P_OK || strlen(p2p_errmsg()) > 0, "%s: p2p_%s left no message", what, NODE_FUNC_NAMES[i]);
    }
}

static void test_unknown_handles(void) {
    int on_stack = 0;
    void *heap = malloc(256);
    memset(heap, 0, 256);
    check_all_funcs((p2p_node *)(uintptr_t)0x5eed1234abcdULL, 1, P2P_EHANDLE, "random pointer");
    check_all_funcs((p2p_node *)&on_stack, 1, P2P_EHANDLE, "stack pointer");
    check_all_funcs((p2p_node *)heap, 1, P2P_EHANDLE, "heap pointer");
    check_all_funcs((p2p_node *)(uintptr_t)1, 1, P2P_EHANDLE, "pointer 1");
    check_all_funcs((p2p_node *)(uintptr_t)UINTPTR_MAX, 1, P2P_EHANDLE, "pointer ~0");
    free(heap);
}

/* The per-function "Returns" lists name P2P_EHANDLE for a bad handle; some
 * (set_callback, set_debug, start, stop, free, reply) list no P2P_EINVAL. */
static void test_null_node(void) { check_all_funcs(NULL, 1, P2P_EHANDLE, "NULL node"); }

static void test_calls_after_free(void) {
    side a, b;
    uint64_t ab = 0;
    memset(&b, 0, sizeof b);
    REQUIRE(side_up(&a, 0) == 0 && side_up(&b, 0) == 0);
    REQUIRE(link_sides(&a, &b, 0, &ab, NULL) == P2P_OK);
    p2p_node *stale = a.n;
    CHECK_RC(p2p_node_free(a.n), P2P_OK);
    a.n = NULL;
    check_all_funcs(stale, ab, P2P_EHANDLE, "freed started node");
    /* a node freed before start */
    p2p_node *fresh = mk_node(NULL, NULL);
    REQUIRE(fresh);
    CHECK_RC(p2p_node_free(fresh), P2P_OK);
    check_all_funcs(fresh, 1, P2P_EHANDLE, "freed new node");
    /* freed handles are never reused */
    int reused = 0;
    for (int i = 0; i < 20; i++) {
        p2p_node *n = mk_node(NULL, NULL);
        if (n == stale || n == fresh) reused = 1;
        if (n) p2p_node_free(n);
    }
    CHECK(!reused);
    CHECK_RC(p2p_node_free(stale), P2P_EHANDLE);
out:
    side_free(&a);
    side_free(&b);
}

/* Every pointer argument NULL in turn, with a live node and peer. */
static void test_null_arguments(void) {
    side a, b;
    uint64_t ab = 0;
    char buf[32];
    size_t count;
    int v;
    REQUIRE(side_up(&a, 1) == 0 && side_up(&b, 0) == 0);
    REQUIRE(link_sides(&a, &b, 0, &ab, NULL) == P2P_OK);
    CHECK_RC(p2p_node_new("127.0.0.1", 0, NULL, 0, NULL), P2P_EINVAL);
    CHECK_RC(p2p_node_set_callback(b.n, NULL, NULL), P2P_ESTATE); /* started; NULL fn itself is fine */
    CHECK_RC(p2p_node_get_limit(a.n, P2P_LIMIT_DIAL_TIMEOUT_MS, NULL), P2P_EINVAL);
    CHECK_RC(p2p_node_get_debug(a.n, NULL), P2P_EINVAL);
    CHECK_RC(p2p_node_port(a.n, NULL), P2P_EINVAL);
    CHECK_RC(p2p_node_counters(a.n, NULL), P2P_EINVAL);
    CHECK_RC(p2p_node_connect(a.n, NULL, b.port, 0, NULL), P2P_EINVAL);
    CHECK_RC(p2p_node_send(a.n, ab, NULL, 1, 0), P2P_EINVAL);
    CHECK_RC(p2p_node_broadcast(a.n, NULL, 1, NULL, 0, 0), P2P_EINVAL);
    CHECK_RC(p2p_node_broadcast(a.n, "x", 1, NULL, 1, 0), P2P_EINVAL);
    CHECK_RC(p2p_peer_port(a.n, ab, NULL), P2P_EINVAL);
    CHECK_RC(p2p_peer_direction(a.n, ab, NULL), P2P_EINVAL);
    CHECK_RC(p2p_peer_set_info(a.n, ab, NULL, "v", 1), P2P_EINVAL);
    CHECK_RC(p2p_peer_set_info(a.n, ab, "k", NULL, 1), P2P_EINVAL);
    CHECK_RC(h_peer_get_info(a.n, ab, NULL, buf, sizeof buf, &count), P2P_EINVAL);
    CHECK_RC(p2p_node_poll(a.n, NULL, 4, 0, &count), P2P_EINVAL);
    CHECK_RC(p2p_node_poll(a.n, (p2p_event *)buf, 1, 0, NULL), P2P_EINVAL);
    /* allowed NULLs */
    CHECK_RC(p2p_node_connect(a.n, "127.0.0.1", b.port, 0, NULL), P2P_EALREADY);
    CHECK_RC(p2p_node_send(a.n, ab, NULL, 0, 0), P2P_OK);
    CHECK_RC(p2p_node_broadcast(a.n, NULL, 0, NULL, 0, 0), P2P_OK);
    CHECK_RC(p2p_peer_set_info(a.n, ab, "k", NULL, 0), P2P_OK);
    CHECK_RC(h_peer_get_info(a.n, ab, "k", NULL, 0, NULL), P2P_OK);
    CHECK_RC(p2p_peer_port(a.n, ab, &v), P2P_OK);
    CHECK(p2p_strerror(P2P_OK) != NULL && p2p_errmsg() != NULL);
out:
    side_free(&a);
    side_free(&b);
}

/* ---- Layout as the bindings marshal it (details in layout_check.c) ---------- */

static void test_struct_sizes(void) {
    CHECK(sizeof(p2p_counters) == 160);
    if (sizeof(void *) == 8) CHECK(sizeof(p2p_event) == 152);
}

/* ---- The table ---------------------------------------------------------------- */

typedef struct test {
    const char *name;
    void (*fn)(void);
    int subset; /* part of the valgrind run */
} test;

#define T(name, subset) {#name, test_##name, subset}
static const test TESTS[] = {
    T(version, 1),
    T(strerror, 1),
    T(last_error, 1),
    T(last_error_long, 1),
    T(struct_sizes, 1),
    T(node_new, 1),
    T(node_facts_buffers, 1),
    T(limits, 1),
    T(debug, 0),
    T(start_stop_states, 1),
    T(stop_unstarted, 1),
    T(set_callback_null_back_to_poll, 1),
    T(connect_and_peer_facts, 1),
    T(peer_lists_all, 1),
    T(connect_self, 1),
    T(connect_duplicate, 1),
    T(connect_errors, 1),
    T(connect_handshake_failures, 1),
    T(raw_peer_wire, 1),
    T(handshake_timeout_inbound, 1),
    T(max_connections, 1),
    T(message_callback_none, 1),
    T(message_callback_zlib, 1),
    T(message_callback_bzip2, 1),
    T(message_callback_lzma, 1),
    T(message_poll_none, 1),
    T(message_poll_zlib, 1),
    T(message_poll_bzip2, 1),
    T(message_poll_lzma, 1),
    T(message_large_callback, 1),
    T(message_large_poll, 1),
    T(send_errors, 1),
    T(too_big, 1),
    T(decompressed_limit, 1),
    T(broadcast_and_counters, 1),
    T(batch_callback, 0),
    T(batch_poll, 0),
    T(batch_poll_small_bound, 1),
    T(poll_batches, 1),
    T(poll_wakes_on_stop_and_free, 1),
    T(poll_after_stop, 1),
    T(peer_info, 1),
    T(all_events_callback, 1),
    T(all_events_poll, 1),
    T(stop_last_chance, 1),
    T(handle_valid_in_disconnect_event, 1),
    T(reconnect_give_up_callback, 1),
    T(reconnect_give_up_poll, 1),
    T(reconnect_yes_callback, 1),
    T(reconnect_garbage_42_callback, 1),
    T(reconnect_garbage_minus7_callback, 0),
    T(reconnect_yes_poll, 1),
    T(reconnect_garbage_42_poll, 0),
    T(reconnect_unanswered_poll, 1),
    T(disconnect_ends_reconnect, 1),
    T(calls_inside_callback, 1),
    T(event_intact_after_nested_event, 1),
    T(stop_inside_callback, 1),
    T(free_inside_callback, 1),
    T(free_waits_for_callback, 1),
    T(concurrent_senders, 0),
    T(send_queue_full, 0),
    T(stop_from_poll_thread, 1),
    T(request_stop, 1),
    T(no_events_after_free, 1),
    T(unknown_handles, 1),
    T(null_node, 1),
    T(calls_after_free, 1),
    T(null_arguments, 1),
#define SECURE_T_(name, subset) T(name, subset),
    SECURE_TESTS(SECURE_T_)
    FAULT_TESTS(SECURE_T_)
    V03_TESTS(SECURE_T_)
    NATIVE_TESTS(SECURE_T_)
    BATCHCB_TESTS(SECURE_T_)
#undef SECURE_T_
};
#define N_TESTS (sizeof TESTS / sizeof TESTS[0])

int main(int argc, char **argv) {
    int subset = 0, list = 0, npat = 0;
    const char *pats[64];
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--subset")) subset = 1;
        else if (!strcmp(argv[i], "--list")) list = 1;
        else if (npat < 64) pats[npat++] = argv[i];
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    int passed = 0, failed = 0;
    for (size_t i = 0; i < N_TESTS; i++) {
        const test *t = &TESTS[i];
        if (subset && !t->subset) continue;
        if (npat) {
            int match = 0;
            for (int j = 0; j < npat; j++)
                if (strstr(t->name, pats[j])) match = 1;
            if (!match) continue;
        }
        if (list) {
            printf("%s%s\n", t->name, t->subset ? " *" : "");
            continue;
        }
        h_test_failed = 0;
        int64_t t0 = h_now_ms();
        t->fn();
        int64_t ms = h_now_ms() - t0;
        if (h_test_failed) {
            failed++;
            printf("FAIL %s (%lld ms)\n", t->name, (long long)ms);
        } else {
            passed++;
            printf("ok   %s (%lld ms)\n", t->name, (long long)ms);
        }
    }
    if (list) return 0;
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
