/*
 * test_v03.c - the functions 0.3 added: p2p_buf and its _buf twins, the
 * sized structs (p2p_peer, p2p_ev, p2p_stats, p2p_secure_opts), the name
 * functions, p2p_node_set_handler and p2p_node_next, p2p_secure_hash and
 * the password rule. Real nodes on loopback; every wait has a deadline.
 */
#include <unistd.h>

#include "harness.h"
#include "v03_tests.h"

/* ---- Names ---------------------------------------------------------------- */

void test_v03_names(void) {
    static const char *events[] = {NULL, "outbound_node_connected", "inbound_node_connected",
                                   "outbound_node_disconnected", "inbound_node_disconnected",
                                   "node_message", "node_disconnect_with_outbound_node",
                                   "node_request_to_stop", "node_reconnection_error",
                                   "secure_message", "message_rejected", "discovery_answer"};
    for (int t = 1; t <= P2P_EVENT_DISCOVERY_ANSWER; t++) {
        const char *n = p2p_event_name(t);
        CHECKF(n && strcmp(n, events[t]) == 0, "type %d: %s", t, n ? n : "(null)");
    }
    CHECK(p2p_event_name(0) == NULL);
    CHECK(strcmp(p2p_event_name(P2P_EVENT_TOPIC_MESSAGE), "node_topic_message") == 0);
    CHECK(p2p_event_name(13) == NULL);
    CHECK(p2p_event_name(-1) == NULL);
    CHECK(strcmp(p2p_reject_name(P2P_REJECT_NONE), "none") == 0);
    CHECK(strcmp(p2p_reject_name(P2P_REJECT_BAD_SIGNATURE), "bad_signature") == 0);
    CHECK(strcmp(p2p_reject_name(P2P_REJECT_FUTURE), "future") == 0);
    CHECK(p2p_reject_name(11) == NULL && p2p_reject_name(-1) == NULL);
    CHECK(strcmp(p2p_kind_name(P2P_KIND_JSON), "json") == 0);
    CHECK(strcmp(p2p_kind_name(P2P_KIND_TEXT), "text") == 0);
    CHECK(strcmp(p2p_kind_name(P2P_KIND_BYTES), "bytes") == 0);
    CHECK(p2p_kind_name(3) == NULL && p2p_kind_name(-1) == NULL);
    static const char *comp[] = {"none", "zlib", "bzip2", "lzma"};
    for (int c = 0; c <= P2P_COMPRESSION_LZMA; c++) {
        int got = -1;
        CHECK(strcmp(p2p_compression_name(c), comp[c]) == 0);
        CHECK_RC(p2p_compression_from_name(comp[c], &got), P2P_OK);
        CHECK(got == c);
    }
    CHECK(p2p_compression_name(4) == NULL && p2p_compression_name(-1) == NULL);
    int got = -1;
    CHECK_RC(p2p_compression_from_name("BZip2", &got), P2P_OK);
    CHECK(got == P2P_COMPRESSION_BZIP2);
    CHECK_RC(p2p_compression_from_name(NULL, &got), P2P_OK);
    CHECK(got == P2P_COMPRESSION_NONE);
    got = 7;
    CHECK_RC(p2p_compression_from_name("", &got), P2P_OK);
    CHECK(got == P2P_COMPRESSION_NONE);
    got = 7;
    CHECK_RC(p2p_compression_from_name("gzip", &got), P2P_EINVAL);
    CHECK(got == 7);
    CHECK(strstr(p2p_errmsg(), "unknown compression") != NULL);
    CHECK_RC(p2p_compression_from_name("zlibx", &got), P2P_EINVAL);
    CHECK_RC(p2p_compression_from_name("zli", &got), P2P_EINVAL);
    CHECK_RC(p2p_compression_from_name("zlib", NULL), P2P_EINVAL);
}

/* ---- p2p_buf on a node ------------------------------------------------------ */

void test_v03_buf_node(void) {
    p2p_node *n = NULL;
    p2p_buf b = P2P_BUF_INIT;
    char id[P2P_MAX_ID_LEN + 1];
    REQUIRE(p2p_node_new("127.0.0.1", 0, "buf-node", 0, &n) == P2P_OK);
    CHECK_RC(p2p_node_id_buf(n, &b), P2P_OK);
    CHECK(b.data && b.len == 8 && memcmp(b.data, "buf-node", 9) == 0); /* NUL after len */
    CHECK_RC(h_node_id(n, id, sizeof id), P2P_OK);
    CHECK(strcmp((const char *)b.data, id) == 0);
    p2p_buf_free(&b);
    CHECK(b.data == NULL && b.len == 0);
    p2p_buf_free(&b); /* twice: harmless */
    p2p_buf_free(NULL);
    CHECK_RC(p2p_node_host_buf(n, &b), P2P_OK);
    CHECK(b.len == 9 && strcmp((const char *)b.data, "127.0.0.1") == 0);
    p2p_buf_free(&b);
    /* an empty list still comes as data non-NULL, len 0 */
    CHECK_RC(p2p_node_peers_buf(n, P2P_ALL, &b), P2P_OK);
    CHECK(b.data != NULL && b.len == 0);
    p2p_buf_free(&b);
    CHECK_RC(p2p_node_peers_buf(n, 3, &b), P2P_EINVAL);
    CHECK(b.data == NULL && b.len == 0);
    CHECK_RC(p2p_node_id_buf(n, NULL), P2P_EINVAL);
    /* a failure leaves {NULL, 0}, whatever *out held */
    b.data = (uint8_t *)"junk";
    b.len = 4;
    CHECK_RC(p2p_node_id_buf(NULL, &b), P2P_EHANDLE);
    CHECK(b.data == NULL && b.len == 0);
    b.data = (uint8_t *)"junk";
    CHECK_RC(p2p_peer_get_info_buf(n, 12345, "k", &b), P2P_ENOPEER);
    CHECK(b.data == NULL && b.len == 0);
    /* a buf outlives its node */
    CHECK_RC(p2p_node_id_buf(n, &b), P2P_OK);
out:
    if (n) p2p_node_free(n);
    if (n) CHECK(b.data && strcmp((const char *)b.data, "buf-node") == 0);
    p2p_buf_free(&b);
}

/* ---- Peer facts, info, ping, stats ------------------------------------------ */

void test_v03_peer_facts_stats(void) {
    recorder ra, rb;
    rec_init(&ra, 256);
    rec_init(&rb, 256);
    p2p_node *a = mk_node(&ra, "facts-a"), *b = mk_node(&rb, "facts-b");
    uint64_t ab = 0, ba = 0;
    p2p_buf buf = P2P_BUF_INIT;
    p2p_peer f;
    REQUIRE(a && b);
    REQUIRE(p2p_node_start(a) == P2P_OK && p2p_node_start(b) == P2P_OK);
    REQUIRE(p2p_node_connect(a, "127.0.0.1", node_port(b), 0, &ab) == P2P_OK);
    REQUIRE(WAIT_UNTIL(rec_count(&rb, P2P_EVENT_INBOUND_CONNECTED) == 1));
    ba = rec_nth(&rb, P2P_EVENT_INBOUND_CONNECTED, 0)->peer;

    P2P_INIT(&f);
    CHECK_RC(p2p_peer_facts(a, ab, &f), P2P_OK);
    CHECK(f.size == sizeof f && f.peer == ab);
    CHECK(f.id && strcmp(f.id, "facts-b") == 0 && f.id_len == 7);
    CHECK(f.host && strcmp(f.host, "127.0.0.1") == 0 && f.host_len == 9);
    CHECK(f.port == node_port(b) && f.direction == P2P_OUTBOUND);
    CHECK(f.mem.data != NULL);
    p2p_buf_free(&f.mem);
    P2P_INIT(&f);
    CHECK_RC(p2p_peer_facts(b, ba, &f), P2P_OK);
    CHECK(strcmp(f.id, "facts-a") == 0 && f.direction == P2P_INBOUND && f.port == node_port(a));
    p2p_buf_free(&f.mem);
    /* a caller built with a newer header: its extra bytes are zeroed */
    struct {
        p2p_peer p;
        unsigned char extra[24];
    } big;
    memset(&big, 0xab, sizeof big);
    big.p.size = sizeof big;
    CHECK_RC(p2p_peer_facts(a, ab, &big.p), P2P_OK);
    CHECK(big.p.size == sizeof(p2p_peer));
    int zero = 1;
    for (size_t i = 0; i < sizeof big.extra; i++) zero &= big.extra[i] == 0;
    CHECK(zero);
    CHECK(strcmp(big.p.id, "facts-b") == 0);
    p2p_buf_free(&big.p.mem);
    /* too small a size, NULL, unknown peer */
    P2P_INIT(&f);
    f.size = 8;
    CHECK_RC(p2p_peer_facts(a, ab, &f), P2P_EINVAL);
    CHECK_RC(p2p_peer_facts(a, ab, NULL), P2P_EINVAL);
    P2P_INIT(&f);
    CHECK_RC(p2p_peer_facts(a, 999999, &f), P2P_ENOPEER);
    CHECK(f.mem.data == NULL);

    /* info values and the ping */
    CHECK_RC(p2p_peer_set_info(a, ab, "colour", "blue\0x", 6), P2P_OK);
    CHECK_RC(p2p_peer_get_info_buf(a, ab, "colour", &buf), P2P_OK);
    CHECK(buf.len == 6 && memcmp(buf.data, "blue\0x", 7) == 0);
    p2p_buf_free(&buf);
    CHECK_RC(p2p_peer_get_info_buf(a, ab, "none", &buf), P2P_ENOTFOUND);
    CHECK_RC(p2p_peer_get_info_buf(a, ab, NULL, &buf), P2P_EINVAL);
    double secs = -1;
    CHECK_RC(p2p_peer_ping(a, ab, &secs), P2P_ENOTFOUND);
    CHECK_RC(p2p_peer_set_info(a, ab, "ping", "0.25", 4), P2P_OK);
    CHECK_RC(p2p_peer_ping(a, ab, &secs), P2P_OK);
    CHECK(secs == 0.25);
    CHECK_RC(p2p_peer_set_info(a, ab, "ping", "fast", 4), P2P_OK);
    CHECK_RC(p2p_peer_ping(a, ab, &secs), P2P_EINVAL);
    CHECK_RC(p2p_peer_ping(a, ab, NULL), P2P_EINVAL);

    /* peer lists */
    CHECK_RC(p2p_node_peers_buf(a, P2P_OUTBOUND, &buf), P2P_OK);
    CHECK(buf.len == 8 && ((const uint64_t *)(const void *)buf.data)[0] == ab);
    p2p_buf_free(&buf);
    CHECK_RC(p2p_node_peers_buf(b, P2P_ALL, &buf), P2P_OK);
    CHECK(buf.len == 8 && ((const uint64_t *)(const void *)buf.data)[0] == ba);
    p2p_buf_free(&buf);

    /* stats: the counters, sized */
    CHECK_RC(p2p_node_send(a, ab, "hello", 5, P2P_COMPRESSION_NONE), P2P_OK);
    REQUIRE(WAIT_UNTIL(rec_count(&rb, P2P_EVENT_MESSAGE) == 1));
    p2p_stats s;
    p2p_counters c;
    P2P_INIT(&s);
    CHECK_RC(p2p_peer_stats(b, ba, &s), P2P_OK);
    CHECK_RC(p2p_peer_counters(b, ba, &c), P2P_OK);
    CHECK(s.size == sizeof s && s.received == 1 && s.received == c.received &&
          s.received_bytes == c.received_bytes);
    REQUIRE(WAIT_UNTIL(p2p_node_stats(a, &s) == P2P_OK && s.written == 1));
    CHECK(s.accepted == 1 && s.sent == 1 && s.stalled == 0);
    s.size = 16;
    CHECK_RC(p2p_node_stats(a, &s), P2P_EINVAL);
    CHECK_RC(p2p_node_stats(a, NULL), P2P_EINVAL);
    P2P_INIT(&s);
    CHECK_RC(p2p_peer_stats(a, 424242, &s), P2P_ENOPEER);
out:
    if (a) p2p_node_free(a);
    if (b) p2p_node_free(b);
    rec_destroy(&ra);
    rec_destroy(&rb);
}

/* ---- p2p_node_set_handler ---------------------------------------------------- */

typedef struct ev_log {
    pthread_mutex_t mu;
    int types[64];
    size_t sizes[64];
    char names[64][40];
    char data[64][16];
    size_t n;
    int id_len_ok;
} ev_log;

static int on_ev(void *user, const p2p_ev *ev) {
    ev_log *l = user;
    pthread_mutex_lock(&l->mu);
    if (l->n < 64) {
        l->types[l->n] = ev->type;
        l->sizes[l->n] = ev->size;
        snprintf(l->names[l->n], sizeof l->names[0], "%s", p2p_event_name(ev->type));
        if (ev->data) snprintf(l->data[l->n], sizeof l->data[0], "%.*s", (int)ev->data_len, (const char *)ev->data);
        if (ev->peer_id && strlen(ev->peer_id) != ev->peer_id_len) l->id_len_ok = 0;
        if (ev->peer_host && strlen(ev->peer_host) != ev->peer_host_len) l->id_len_ok = 0;
        l->n++;
    }
    pthread_mutex_unlock(&l->mu);
    return 1;
}

static size_t log_count(ev_log *l, int type) {
    size_t k = 0;
    pthread_mutex_lock(&l->mu);
    for (size_t i = 0; i < l->n; i++) k += l->types[i] == type;
    pthread_mutex_unlock(&l->mu);
    return k;
}

void test_v03_handler(void) {
    ev_log l;
    memset(&l, 0, sizeof l);
    pthread_mutex_init(&l.mu, NULL);
    l.id_len_ok = 1;
    p2p_node *a = mk_node(NULL, "handler-a"), *b = mk_node(NULL, "handler-b");
    uint64_t ab = 0;
    REQUIRE(a && b);
    CHECK_RC(p2p_node_set_handler(b, on_ev, &l), P2P_OK);
    REQUIRE(p2p_node_start(a) == P2P_OK && p2p_node_start(b) == P2P_OK);
    CHECK_RC(p2p_node_set_handler(b, on_ev, &l), P2P_ESTATE);
    CHECK_RC(p2p_node_set_handler(NULL, on_ev, &l), P2P_EHANDLE);
    REQUIRE(p2p_node_connect(a, "127.0.0.1", node_port(b), 0, &ab) == P2P_OK);
    CHECK_RC(p2p_node_send(a, ab, "one", 3, P2P_COMPRESSION_NONE), P2P_OK);
    CHECK_RC(p2p_node_send(a, ab, "two", 3, P2P_COMPRESSION_ZLIB), P2P_OK);
    REQUIRE(WAIT_UNTIL(log_count(&l, P2P_EVENT_MESSAGE) == 2));
    CHECK_RC(p2p_node_disconnect(a, ab), P2P_OK);
    REQUIRE(WAIT_UNTIL(log_count(&l, P2P_EVENT_INBOUND_DISCONNECTED) == 1));
    pthread_mutex_lock(&l.mu);
    CHECK(l.n == 4);
    CHECK(l.types[0] == P2P_EVENT_INBOUND_CONNECTED && strcmp(l.names[0], "inbound_node_connected") == 0);
    CHECK(l.types[1] == P2P_EVENT_MESSAGE && strcmp(l.data[1], "one") == 0 && strcmp(l.names[1], "node_message") == 0);
    CHECK(l.types[2] == P2P_EVENT_MESSAGE && strcmp(l.data[2], "two") == 0);
    CHECK(strcmp(l.names[3], "inbound_node_disconnected") == 0);
    for (size_t i = 0; i < l.n; i++) CHECK(l.sizes[i] == sizeof(p2p_ev));
    CHECK(l.id_len_ok);
    pthread_mutex_unlock(&l.mu);
out:
    if (a) p2p_node_free(a);
    if (b) p2p_node_free(b);
    pthread_mutex_destroy(&l.mu);
}

/* ---- p2p_node_next ------------------------------------------------------------- */

/* A caller built with a newer header: each event is followed by bytes the
 * library does not know, which it must zero, never step over. */
typedef struct big_ev {
    p2p_ev ev;
    unsigned char extra[40];
} big_ev;

void test_v03_next(void) {
    p2p_node *a = mk_node(NULL, "next-a"), *b = mk_node(NULL, "next-b");
    uint64_t ab = 0;
    big_ev evs[8];
    size_t count = 0, got_msgs = 0, got_in = 0;
    char seen[3][8] = {"", "", ""};
    REQUIRE(a && b);
    REQUIRE(p2p_node_start(a) == P2P_OK && p2p_node_start(b) == P2P_OK);
    REQUIRE(p2p_node_connect(a, "127.0.0.1", node_port(b), 0, &ab) == P2P_OK);
    CHECK_RC(p2p_node_send(a, ab, "m0", 2, P2P_COMPRESSION_NONE), P2P_OK);
    CHECK_RC(p2p_node_send(a, ab, "m1", 2, P2P_COMPRESSION_LZMA), P2P_OK);
    CHECK_RC(p2p_node_send(a, ab, "m2", 2, P2P_COMPRESSION_NONE), P2P_OK);
    /* argument checks */
    P2P_INIT(&evs[0].ev);
    evs[0].ev.size = sizeof(p2p_ev) - 8;
    CHECK_RC(p2p_node_next(b, &evs[0].ev, 8, 0, &count, NULL, NULL), P2P_EINVAL);
    CHECK_RC(p2p_node_next(b, NULL, 8, 0, &count, NULL, NULL), P2P_EINVAL);
    evs[0].ev.size = sizeof evs[0];
    CHECK_RC(p2p_node_next(b, &evs[0].ev, 8, 0, NULL, NULL, NULL), P2P_EINVAL);
    const uint8_t *block = NULL;
    size_t block_len = 0;
    CHECK_RC(p2p_node_next(b, &evs[0].ev, 8, 0, &count, &block, NULL), P2P_EINVAL);
    int64_t until = h_now_ms() + WAIT_MS;
    while ((got_msgs < 3 || got_in < 1) && h_now_ms() < until) {
        memset(evs, 0xcd, sizeof evs);
        evs[0].ev.size = sizeof evs[0];
        int rc = p2p_node_next(b, &evs[0].ev, 8, 50, &count, &block, &block_len);
        CHECK_RC(rc, P2P_OK);
        if (rc != P2P_OK) break;
        size_t bytes = 0;
        for (size_t i = 0; i < count; i++) {
            const p2p_ev *e = &evs[i].ev;
            CHECK(e->size == sizeof(p2p_ev));
            int zero = 1;
            for (size_t k = 0; k < sizeof evs[i].extra; k++) zero &= evs[i].extra[k] == 0;
            CHECK(zero);
            CHECK(e->node == b);
            CHECK(strcmp(e->peer_id, "next-a") == 0 && e->peer_id_len == 6);
            if (e->type == P2P_EVENT_INBOUND_CONNECTED) got_in++;
            if (e->type == P2P_EVENT_MESSAGE && got_msgs < 3) {
                CHECK(e->data >= block && e->data + e->data_len <= block + block_len);
                snprintf(seen[got_msgs], sizeof seen[0], "%.*s", (int)e->data_len, (const char *)e->data);
                bytes += e->data_len;
                CHECK(e->compression == (got_msgs == 1 ? P2P_COMPRESSION_LZMA : P2P_COMPRESSION_NONE));
                got_msgs++;
            }
        }
        CHECK(bytes == block_len);
    }
    CHECK(got_in == 1 && got_msgs == 3);
    CHECK(strcmp(seen[0], "m0") == 0 && strcmp(seen[1], "m1") == 0 && strcmp(seen[2], "m2") == 0);
    /* the plain array works too, and the two calls mix */
    p2p_ev plain[4];
    P2P_INIT_ARRAY(plain, 4);
    CHECK_RC(p2p_node_next(b, plain, 4, 0, &count, NULL, NULL), P2P_OK);
    CHECK(count == 0);
    p2p_event old[4];
    CHECK_RC(p2p_node_poll(b, old, 4, 0, &count), P2P_OK);
    /* a node with a handler has nothing to poll */
    p2p_node *c = mk_node(NULL, NULL);
    if (c) {
        CHECK_RC(p2p_node_set_handler(c, on_ev, NULL), P2P_OK);
        CHECK_RC(p2p_node_start(c), P2P_OK);
        CHECK_RC(p2p_node_next(c, plain, 4, 0, &count, NULL, NULL), P2P_ESTATE);
        p2p_node_free(c);
    }
    /* stopping: the events of the stop, then P2P_ESTOPPED */
    CHECK_RC(p2p_node_request_stop(b), P2P_OK);
    int rc = P2P_OK, stop_seen = 0;
    until = h_now_ms() + WAIT_MS;
    while (rc == P2P_OK && h_now_ms() < until) {
        P2P_INIT(&plain[0]);
        rc = p2p_node_next(b, plain, 4, 50, &count, NULL, NULL);
        for (size_t i = 0; rc == P2P_OK && i < count; i++) stop_seen |= plain[i].type == P2P_EVENT_REQUEST_TO_STOP;
    }
    CHECK_RC(rc, P2P_ESTOPPED);
    CHECK(stop_seen);
out:
    if (a) p2p_node_free(a);
    if (b) p2p_node_free(b);
}

/* ---- Secure: p2p_buf twins and p2p_secure_hash -------------------------------- */

void test_v03_secure_buf(void) {
    p2p_node *n = NULL;
    p2p_buf b = P2P_BUF_INIT, b2 = P2P_BUF_INIT;
    char pem[P2P_MAX_KEY_PEM_LEN + 1], sig[P2P_MAX_KEY_PEM_LEN + 1];
    char canon[256];
    size_t len = 0;
    p2p_secure_opts o;
    P2P_INIT(&o);
    o.size = 4;
    CHECK_RC(p2p_secure_node_create("127.0.0.1", 0, NULL, 0, &o, &n), P2P_EINVAL);
    CHECK(n == NULL);
    P2P_INIT(&o);
    o.key_policy = 77;
    CHECK_RC(p2p_secure_node_create("127.0.0.1", 0, NULL, 0, &o, &n), P2P_EINVAL);
    P2P_INIT(&o);
    o.key_policy = P2P_NO_PINNING;
    REQUIRE(p2p_secure_node_create("127.0.0.1", 0, "sec-buf", 0, &o, &n) == P2P_OK);
    CHECK_RC(p2p_secure_public_key_buf(n, &b), P2P_EKEY);
    CHECK(b.data == NULL);
    REQUIRE(p2p_secure_key_generate(n, 2048) == P2P_OK);

    CHECK_RC(p2p_secure_public_key_buf(n, &b), P2P_OK);
    CHECK_RC(h_secure_public_key(n, pem, sizeof pem), P2P_OK);
    CHECK(b.len == strlen(pem) && strcmp((const char *)b.data, pem) == 0);
    p2p_buf_free(&b);
    CHECK_RC(p2p_secure_private_key_buf(n, &b), P2P_OK);
    CHECK(b.len > 0 && strstr((const char *)b.data, "BEGIN RSA PRIVATE KEY") != NULL);
    memset(b.data, 0, b.len);
    p2p_buf_free(&b);
    CHECK_RC(p2p_secure_pinned_key_buf(n, "someone", &b), P2P_ENOTFOUND);
    CHECK_RC(p2p_secure_pin(n, "someone", pem), P2P_OK);
    CHECK_RC(p2p_secure_pinned_key_buf(n, "someone", &b), P2P_OK);
    CHECK(b.data && strcmp((const char *)b.data, pem) == 0);
    p2p_buf_free(&b);

    /* create, then check */
    const char *obj = "{\"text\": \"hi\", \"n\": 1.0}";
    CHECK_RC(p2p_secure_create_message_buf(n, obj, strlen(obj), &b), P2P_OK);
    CHECK(b.len > 0 && b.data[0] == '{' && b.data[b.len] == 0);
    int reject = -1;
    CHECK_RC(p2p_secure_check_message((const char *)b.data, b.len, &reject), P2P_OK);
    CHECK(reject == 0);
    p2p_buf_free(&b);
    CHECK_RC(p2p_secure_create_message_buf(n, "[1]", 3, &b), P2P_EINVAL);

    /* canonical text and hash (the figures Python's json and hashlib give) */
    const char *v = "{\"b\": 1, \"a\": [1, 2.5, \"\xc3\xa9\"]}";
    CHECK_RC(p2p_secure_canonical_buf(v, strlen(v), &b), P2P_OK);
    CHECK(b.data && strcmp((const char *)b.data, "{\"a\": [1, 2.5, \"\\u00e9\"], \"b\": 1}") == 0);
    CHECK_RC(h_secure_canonical(v, strlen(v), canon, sizeof canon, &len), P2P_OK);
    CHECK(len == b.len && memcmp(canon, b.data, len) == 0);
    p2p_buf_free(&b);
    CHECK_RC(p2p_secure_hash(v, strlen(v), &b), P2P_OK);
    CHECK(b.len == 128 && strcmp((const char *)b.data,
                                 "09f90e44626663b2e02acdea525cccd723c82fdd0fa40b18a5b40e97b5e4f844"
                                 "cdd107b274ea3759ab89366c50935ca507bdd6661757292fc42025d22f987f98") == 0);
    p2p_buf_free(&b);
    CHECK_RC(p2p_secure_hash("{nope", 5, &b), P2P_EINVAL);
    CHECK(b.data == NULL);
    CHECK_RC(p2p_secure_hash(v, strlen(v), NULL), P2P_EINVAL);
    CHECK_RC(p2p_secure_hash(v, (size_t)65 << 20, &b), P2P_ETOOBIG); /* checked before a byte is read */

    /* sign and verify */
    CHECK_RC(p2p_secure_sign_buf(n, "text", 4, &b), P2P_OK);
    CHECK_RC(h_secure_sign(n, "text", 4, sig, sizeof sig), P2P_OK);
    CHECK(b.len == strlen(sig)); /* PKCS#1 v1.5 is deterministic */
    CHECK(strcmp((const char *)b.data, sig) == 0);
    CHECK_RC(p2p_secure_verify(pem, "text", 4, (const char *)b.data), P2P_OK);
    p2p_buf_free(&b);

    /* RSA round trip */
    CHECK_RC(p2p_secure_encrypt_buf(pem, "secret", 6, &b), P2P_OK);
    CHECK(b.len == 344); /* base64 of 256 bytes */
    CHECK_RC(p2p_secure_decrypt_buf(n, (const char *)b.data, b.len, &b2), P2P_OK);
    CHECK(b2.len == 6 && memcmp(b2.data, "secret", 7) == 0);
    p2p_buf_free(&b);
    p2p_buf_free(&b2);
    CHECK_RC(p2p_secure_encrypt_buf("not a key", "x", 1, &b), P2P_EINVAL);
    CHECK_RC(p2p_secure_encrypt_buf(NULL, "x", 1, &b), P2P_EINVAL);

    /* AES, with a key and with a password; pad */
    const uint8_t key[32] = {1, 2, 3};
    CHECK_RC(p2p_secure_aes_pad_buf("abc", 3, &b), P2P_OK);
    CHECK(b.len == 16 && memcmp(b.data, "abc\0\0", 5) == 0);
    p2p_buf_free(&b);
    CHECK_RC(p2p_secure_aes_encrypt_buf(key, 32, "plain", 5, &b), P2P_OK);
    CHECK(b.len == 32);
    CHECK_RC(p2p_secure_aes_decrypt_buf(key, 32, b.data, b.len, &b2), P2P_OK);
    CHECK(b2.len == 5 && memcmp(b2.data, "plain", 5) == 0);
    p2p_buf_free(&b);
    p2p_buf_free(&b2);
    CHECK_RC(p2p_secure_aes_encrypt_buf(key, 7, "plain", 5, &b), P2P_EINVAL);
    CHECK_RC(p2p_secure_aes_encrypt_pw_buf("pw", 2, "plain", 5, &b), P2P_OK);
    CHECK(b.len == 64);
    CHECK_RC(p2p_secure_aes_decrypt_pw_buf("pw", 2, b.data, b.len, &b2), P2P_OK);
    CHECK(b2.len == 5 && memcmp(b2.data, "plain", 5) == 0);
    p2p_buf_free(&b);
    p2p_buf_free(&b2);
    CHECK_RC(p2p_secure_aes_decrypt_pw_buf("pw", 2, "short", 5, &b), P2P_EINVAL);

    /* files */
    char path[64], path2[64];
    snprintf(path, sizeof path, "/tmp/p2p-v03-%d.bin", (int)getpid());
    snprintf(path2, sizeof path2, "/tmp/p2p-v03-%d.pw", (int)getpid());
    CHECK_RC(p2p_secure_aes_encrypt_file(path, key, 32, "file data", 9), P2P_OK);
    CHECK_RC(p2p_secure_aes_decrypt_file_buf(path, key, 32, &b), P2P_OK);
    CHECK(b.len == 9 && memcmp(b.data, "file data", 9) == 0);
    p2p_buf_free(&b);
    CHECK_RC(p2p_secure_aes_encrypt_file_pw(path2, "pw", 2, "file pw", 7), P2P_OK);
    CHECK_RC(p2p_secure_aes_decrypt_file_pw_buf(path2, "pw", 2, &b), P2P_OK);
    CHECK(b.len == 7 && memcmp(b.data, "file pw", 7) == 0);
    p2p_buf_free(&b);
    remove(path);
    remove(path2);
    CHECK_RC(p2p_secure_aes_decrypt_file_buf(path, key, 32, &b), P2P_EKEY);
    CHECK_RC(p2p_secure_aes_decrypt_file_buf(NULL, key, 32, &b), P2P_EINVAL);
    CHECK(b.data == NULL);

    /* a plain node is not a secure node */
    p2p_node *plain = mk_node(NULL, NULL);
    if (plain) {
        CHECK_RC(p2p_secure_public_key_buf(plain, &b), P2P_EINVAL);
        p2p_node_free(plain);
    }
out:
    if (n) p2p_node_free(n);
    p2p_buf_free(&b);
    p2p_buf_free(&b2);
}

/* ---- Secure: passwords ------------------------------------------------------- */

void test_v03_secure_passwords(void) {
    p2p_buf b = P2P_BUF_INIT;
    p2p_node *n = NULL, *m = NULL;
    char pem1[P2P_MAX_KEY_PEM_LEN + 1], pem2[P2P_MAX_KEY_PEM_LEN + 1];
    /* Latin-1 where it can be, as PyCryptodome encodes a str */
    CHECK_RC(p2p_secure_password("\xc3\xa9t\xc3\xa9", 5, &b), P2P_OK);
    CHECK(b.len == 3 && memcmp(b.data, "\xe9t\xe9", 3) == 0);
    p2p_buf_free(&b);
    /* else UTF-8 */
    CHECK_RC(p2p_secure_password("\xe2\x82\xac", 3, &b), P2P_OK);
    CHECK(b.len == 3 && memcmp(b.data, "\xe2\x82\xac", 3) == 0);
    p2p_buf_free(&b);
    CHECK_RC(p2p_secure_password("", 0, &b), P2P_OK);
    CHECK(b.len == 0 && b.data != NULL);
    p2p_buf_free(&b);
    CHECK_RC(p2p_secure_password("\xff", 1, &b), P2P_EINVAL);
    CHECK_RC(p2p_secure_password(NULL, 3, &b), P2P_EINVAL);

    /* a key saved with a bytes password loads with the text that stands for it */
    char path[64];
    snprintf(path, sizeof path, "/tmp/p2p-v03-key-%d.pem", (int)getpid());
    REQUIRE(p2p_secure_node_create("127.0.0.1", 0, NULL, 0, NULL, &n) == P2P_OK);
    REQUIRE(p2p_secure_node_create("127.0.0.1", 0, NULL, 0, NULL, &m) == P2P_OK);
    REQUIRE(p2p_secure_key_generate(n, 2048) == P2P_OK);
    CHECK_RC(p2p_secure_key_save_bytes(n, path, "\xe9t\xe9", 3, P2P_KEY_FORMAT_P2PSECURE), P2P_OK);
    CHECK_RC(p2p_secure_key_load(m, path, "wrong"), P2P_EKEY);
    CHECK_RC(p2p_secure_key_load(m, path, "\xc3\xa9t\xc3\xa9"), P2P_OK);
    CHECK_RC(h_secure_public_key(n, pem1, sizeof pem1), P2P_OK);
    CHECK_RC(h_secure_public_key(m, pem2, sizeof pem2), P2P_OK);
    CHECK(strcmp(pem1, pem2) == 0);
    /* and the other way round */
    CHECK_RC(p2p_secure_key_save(m, path, "\xc3\xa9t\xc3\xa9", P2P_KEY_FORMAT_P2PSECURE), P2P_OK);
    CHECK_RC(p2p_secure_key_generate(m, 2048), P2P_OK);
    CHECK_RC(p2p_secure_key_load_bytes(m, path, "\xe9t\xe9", 3), P2P_OK);
    CHECK_RC(h_secure_public_key(m, pem2, sizeof pem2), P2P_OK);
    CHECK(strcmp(pem1, pem2) == 0);
    CHECK_RC(p2p_secure_key_load_bytes(m, path, "xx", 2), P2P_EKEY);
    CHECK_RC(p2p_secure_key_load_bytes(m, NULL, "xx", 2), P2P_EINVAL);
    CHECK_RC(p2p_secure_key_save_bytes(m, path, NULL, 0, 99), P2P_EINVAL);
    remove(path);
out:
    if (n) p2p_node_free(n);
    if (m) p2p_node_free(m);
}

/* ---- Discovery answers through a handler: sized entries ---------------------- */

typedef struct disc_log {
    pthread_mutex_t mu;
    int answers;
    size_t n_nodes, entry_size;
    char first_id[128];
    int first_port;
} disc_log;

static int on_disc(void *user, const p2p_ev *ev) {
    disc_log *l = user;
    if (ev->type != P2P_EVENT_DISCOVERY_ANSWER) return 1;
    pthread_mutex_lock(&l->mu);
    l->answers++;
    l->n_nodes = ev->n_nodes;
    if (ev->n_nodes > 0) {
        const p2p_peer *p = P2P_EV_NODE(ev, 0);
        l->entry_size = p->size;
        snprintf(l->first_id, sizeof l->first_id, "%s", p->id);
        l->first_port = p->port;
        if (strlen(p->id) != p->id_len || strlen(p->host) != p->host_len) l->first_port = -1;
    }
    pthread_mutex_unlock(&l->mu);
    return 1;
}

static int disc_answers(disc_log *l) {
    pthread_mutex_lock(&l->mu);
    int n = l->answers;
    pthread_mutex_unlock(&l->mu);
    return n;
}

void test_v03_discovery_handler(void) {
    disc_log l;
    memset(&l, 0, sizeof l);
    pthread_mutex_init(&l.mu, NULL);
    p2p_node *a = NULL, *b = NULL;
    int port_a = 0, port_b = 0;
    REQUIRE(p2p_secure_node_create("127.0.0.1", 0, "disc-a", 0, NULL, &a) == P2P_OK);
    REQUIRE(p2p_secure_node_create("127.0.0.1", 0, "disc-b", 0, NULL, &b) == P2P_OK);
    REQUIRE(p2p_secure_key_generate(a, 2048) == P2P_OK && p2p_secure_key_generate(b, 2048) == P2P_OK);
    CHECK_RC(p2p_node_set_handler(a, on_disc, &l), P2P_OK);
    REQUIRE(p2p_node_start(a) == P2P_OK && p2p_node_start(b) == P2P_OK);
    p2p_node_port(a, &port_a);
    p2p_node_port(b, &port_b);
    REQUIRE(p2p_node_connect(a, "127.0.0.1", port_b, 0, NULL) == P2P_OK);
    REQUIRE(WAIT_UNTIL(peer_count(b, P2P_INBOUND) == 1));
    CHECK_RC(p2p_secure_send_discovery(a), P2P_OK);
    REQUIRE(WAIT_UNTIL(disc_answers(&l) >= 1));
    pthread_mutex_lock(&l.mu);
    /* b answers with its one peer: a */
    CHECK(l.n_nodes == 1);
    CHECK(l.entry_size == sizeof(p2p_peer));
    CHECK(strcmp(l.first_id, "disc-a") == 0);
    CHECK(l.first_port == port_a);
    pthread_mutex_unlock(&l.mu);
out:
    if (a) p2p_node_free(a);
    if (b) p2p_node_free(b);
    pthread_mutex_destroy(&l.mu);
}
