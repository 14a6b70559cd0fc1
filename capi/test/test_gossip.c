/*
 * test_gossip.c - the network layer through the C ABI (0.4, issue 21): C
 * nodes that discover each other from one bootstrap node, subscribe and
 * publish; P2P_EVENT_TOPIC_MESSAGE through p2p_node_set_handler and
 * p2p_node_next (topic, origin, data, exactly once, never to the origin),
 * and never through the 0.2 callback and poll; p2p_node_known_peers_buf;
 * the misuse of each function. Real nodes on loopback; deadlines only.
 */
#include "harness.h"
#include "native_tests.h"

/* What a node's sized events said of topics. */
typedef struct topic_log {
    pthread_mutex_t mu;
    int n;              /* TOPIC_MESSAGE events */
    int bad;            /* with a field not as published */
    int other_topic;    /* on another topic than "chat" */
    int first, second;  /* of the first and second publish */
    const char *origin; /* the publisher's id, set before the publishes */
} topic_log;

static void topic_check(topic_log *l, const p2p_ev *ev) {
    pthread_mutex_lock(&l->mu);
    if (ev->type == P2P_EVENT_TOPIC_MESSAGE) {
        l->n++;
        if (ev->topic_len != 4 || strcmp(ev->topic, "chat") != 0) l->other_topic++;
        if (strlen(l->origin) != ev->origin_len || strcmp(ev->origin, l->origin) != 0 || ev->peer == 0 ||
            ev->peer_id_len == 0 || ev->kind != P2P_KIND_JSON || ev->sender_id[0] != 0 || ev->msg_type[0] != 0)
            l->bad++;
        if (ev->data_len == 12 && memcmp(ev->data, "{\"n\": \"one\"}", 12) == 0) l->first++;
        else if (ev->data_len == 12 && memcmp(ev->data, "{\"n\": \"two\"}", 12) == 0) l->second++;
        else l->bad++;
    } else if (ev->topic[0] != 0 || ev->topic_len != 0 || ev->origin[0] != 0) {
        l->bad++;
    }
    pthread_mutex_unlock(&l->mu);
}

static int on_ev(void *user, const p2p_ev *ev) {
    topic_check(user, ev);
    return 1;
}

static int topic_count(topic_log *l, int which) {
    pthread_mutex_lock(&l->mu);
    int n = which == 1 ? l->first : which == 2 ? l->second : l->n;
    pthread_mutex_unlock(&l->mu);
    return n;
}

/* p2p_node_next on n for up to 5 ms, into l. */
static void next_pump(p2p_node *n, topic_log *l) {
    p2p_ev evs[16];
    size_t count = 0;
    P2P_INIT(&evs[0]);
    if (p2p_node_next(n, evs, 16, 5, &count, NULL, NULL) != P2P_OK) return;
    for (size_t i = 0; i < count; i++) topic_check(l, &evs[i]);
}

/* How many addresses n knows (known_peers_buf), checking each entry. */
static size_t known(p2p_node *n, int *bad) {
    p2p_buf b = P2P_BUF_INIT;
    size_t count = 0;
    if (p2p_node_known_peers_buf(n, &b, &count) != P2P_OK) return 0;
    for (size_t i = 0; i < count; i++) {
        const p2p_peer *p = P2P_BUF_PEER(&b, i);
        if (p->size != sizeof *p || p->id_len == 0 || strlen(p->id) != p->id_len || strcmp(p->host, "127.0.0.1") != 0 ||
            p->port <= 0 || p->peer != 0 || p->mem.data != NULL || p->encrypted != 0)
            (*bad)++;
    }
    p2p_buf_free(&b);
    return count;
}

enum { N_NODES = 6 };

void test_gossip_network(void) {
    /* 0: bootstrap; 1, 2: handler subscribers; 3: p2p_node_next subscriber;
     * 4: 0.2 callback subscriber (sees no topic event); 5: the publisher. */
    static const char *ids[N_NODES] = {"g-boot", "g-one", "g-two", "g-next", "g-old", "g-pub"};
    p2p_node *n[N_NODES] = {0};
    topic_log logs[N_NODES];
    recorder old;
    int bad = 0;
    rec_init(&old, 1024);
    for (int i = 0; i < N_NODES; i++) {
        memset(&logs[i], 0, sizeof logs[i]);
        pthread_mutex_init(&logs[i].mu, NULL);
        logs[i].origin = "g-pub";
    }
    for (int i = 0; i < N_NODES; i++) {
        REQUIRE(p2p_node_new("127.0.0.1", 0, ids[i], 0, &n[i]) == P2P_OK);
        if (i == 4) CHECK_RC(p2p_node_set_callback(n[i], rec_callback, &old), P2P_OK);
        else if (i != 3) CHECK_RC(p2p_node_set_handler(n[i], on_ev, &logs[i]), P2P_OK);
        if (i < 5) CHECK_RC(p2p_node_subscribe(n[i], "chat", 4), P2P_OK); /* also before start */
        CHECK_RC(p2p_node_subscribe(n[i], "other", 5), P2P_OK);
        REQUIRE(p2p_node_start(n[i]) == P2P_OK);
    }
    CHECK_RC(p2p_node_unsubscribe(n[1], "other", 5), P2P_OK);
    /* one bootstrap address each, then discovery */
    for (int i = 1; i < N_NODES; i++) {
        uint64_t peer = 0;
        REQUIRE(p2p_node_connect(n[i], "127.0.0.1", node_port(n[0]), 0, &peer) == P2P_OK);
    }
    for (int i = 0; i < N_NODES; i++) CHECK_RC(p2p_node_discover(n[i], 2), P2P_OK);
    int ok = WAIT_UNTIL(({
        int all = 1;
        for (int i = 0; i < N_NODES; i++) all &= peer_count(n[i], P2P_ALL) >= 2;
        all;
    }));
    CHECKF(ok, "every node has at least 2 peers");
    CHECK(known(n[5], &bad) >= 1 && bad == 0);
    /* two publishes; the second arriving everywhere shows the first had its chance to repeat */
    CHECK_RC(p2p_node_publish(n[5], "chat", 4, "{\"n\": \"one\"}", 12, 0), P2P_OK);
    ok = 0;
    int64_t until = h_now_ms() + WAIT_MS;
    while (!ok && h_now_ms() < until) {
        next_pump(n[3], &logs[3]);
        ok = topic_count(&logs[0], 1) && topic_count(&logs[1], 1) && topic_count(&logs[2], 1) &&
             topic_count(&logs[3], 1);
    }
    CHECKF(ok, "the first publish reached the four 0.3 subscribers");
    CHECK_RC(p2p_node_publish(n[5], "chat", 4, "{\"n\": \"two\"}", 12, 0), P2P_OK);
    ok = 0;
    until = h_now_ms() + WAIT_MS;
    while (!ok && h_now_ms() < until) {
        next_pump(n[3], &logs[3]);
        ok = topic_count(&logs[0], 2) && topic_count(&logs[1], 2) && topic_count(&logs[2], 2) &&
             topic_count(&logs[3], 2);
    }
    CHECKF(ok, "the second publish reached them too");
    for (int i = 0; i < 4; i++) {
        CHECKF(logs[i].first == 1 && logs[i].second == 1 && logs[i].n == 2, "node %s: %d, %d, %d", ids[i],
               logs[i].first, logs[i].second, logs[i].n);
        CHECKF(logs[i].bad == 0 && logs[i].other_topic == 0, "node %s: %d bad", ids[i], logs[i].bad);
    }
    CHECK(logs[5].n == 0); /* the origin never gets its own */
    /* the 0.2 callback saw messages of no topic; nothing on "other" reached anyone */
    CHECK(rec_count(&old, P2P_EVENT_TOPIC_MESSAGE) == 0 && rec_count(&old, P2P_EVENT_MESSAGE) == 0);
out:
    for (int i = 0; i < N_NODES; i++)
        if (n[i]) p2p_node_free(n[i]);
    for (int i = 0; i < N_NODES; i++) pthread_mutex_destroy(&logs[i].mu);
    rec_destroy(&old);
}

/* A 0.2 poller subscribed to a topic: p2p_node_poll skips the topic
 * messages, p2p_node_next on the same node would have had them. */
void test_gossip_poll_v02_skips(void) {
    p2p_node *a = NULL, *b = NULL;
    recorder rb;
    topic_log la;
    uint64_t peer = 0;
    rec_init(&rb, 64);
    memset(&la, 0, sizeof la);
    pthread_mutex_init(&la.mu, NULL);
    la.origin = "skip-a";
    REQUIRE(p2p_node_new("127.0.0.1", 0, "skip-a", 0, &a) == P2P_OK);
    REQUIRE(p2p_node_new("127.0.0.1", 0, "skip-b", 0, &b) == P2P_OK);
    CHECK_RC(p2p_node_subscribe(b, "chat", 4), P2P_OK);
    REQUIRE(p2p_node_start(a) == P2P_OK && p2p_node_start(b) == P2P_OK);
    REQUIRE(p2p_node_connect(a, "127.0.0.1", node_port(b), 0, &peer) == P2P_OK);
    REQUIRE(WAIT_POLL(b, &rb, rec_count(&rb, P2P_EVENT_INBOUND_CONNECTED) == 1));
    /* a topic message, then a plain one: the poll shows only the latter */
    CHECK_RC(p2p_node_publish(a, "chat", 4, "{\"n\": \"one\"}", 12, 0), P2P_OK);
    CHECK_RC(p2p_node_send(a, peer, "after", 5, P2P_COMPRESSION_NONE), P2P_OK);
    CHECK(WAIT_POLL(b, &rb, rec_count_msg(&rb, "after", 5) == 1));
    CHECK(rec_count(&rb, P2P_EVENT_TOPIC_MESSAGE) == 0);
    /* the same node through p2p_node_next gets the next one */
    CHECK_RC(p2p_node_publish(a, "chat", 4, "{\"n\": \"two\"}", 12, 0), P2P_OK);
    int64_t until = h_now_ms() + WAIT_MS;
    while (topic_count(&la, 2) == 0 && h_now_ms() < until) next_pump(b, &la);
    CHECK(la.second == 1 && la.first == 0 && la.bad == 0);
out:
    if (a) p2p_node_free(a);
    if (b) p2p_node_free(b);
    pthread_mutex_destroy(&la.mu);
    rec_destroy(&rb);
}

void test_gossip_misuse(void) {
    p2p_node *n = NULL, *gone = NULL;
    p2p_buf b = P2P_BUF_INIT;
    size_t count = 7;
    char long_topic[P2P_MAX_TOPIC_LEN + 2];
    memset(long_topic, 't', sizeof long_topic);
    REQUIRE(p2p_node_new("127.0.0.1", 0, "gossip-misuse", 0, &n) == P2P_OK);
    REQUIRE(p2p_node_new("127.0.0.1", 0, NULL, 0, &gone) == P2P_OK);
    REQUIRE(p2p_node_free(gone) == P2P_OK);
    p2p_node *bad[] = {NULL, gone};
    for (int i = 0; i < 2; i++) {
        CHECK_RC(p2p_node_discover(bad[i], 2), P2P_EHANDLE);
        CHECK_RC(p2p_node_known_peers_buf(bad[i], &b, &count), P2P_EHANDLE);
        CHECK(b.data == NULL && count == 0);
        CHECK_RC(p2p_node_subscribe(bad[i], "t", 1), P2P_EHANDLE);
        CHECK_RC(p2p_node_unsubscribe(bad[i], "t", 1), P2P_EHANDLE);
        CHECK_RC(p2p_node_publish(bad[i], "t", 1, "x", 1, 0), P2P_EHANDLE);
    }
    /* before start */
    CHECK_RC(p2p_node_discover(n, 2), P2P_ESTATE);
    CHECK_RC(p2p_node_publish(n, "t", 1, "x", 1, 0), P2P_ESTATE);
    CHECK_RC(p2p_node_known_peers_buf(n, &b, &count), P2P_OK);
    CHECK(count == 0 && b.data != NULL && b.len == 0);
    p2p_buf_free(&b);
    REQUIRE(p2p_node_start(n) == P2P_OK);
    /* arguments */
    CHECK_RC(p2p_node_discover(n, 0), P2P_EINVAL);
    CHECK_RC(p2p_node_discover(n, -3), P2P_EINVAL);
    CHECK_RC(p2p_node_known_peers_buf(n, NULL, &count), P2P_EINVAL);
    CHECK_RC(p2p_node_known_peers_buf(n, &b, NULL), P2P_EINVAL);
    CHECK(b.data == NULL);
    CHECK_RC(p2p_node_subscribe(n, NULL, 1), P2P_EINVAL);
    CHECK_RC(p2p_node_subscribe(n, "t", 0), P2P_EINVAL);
    CHECK_RC(p2p_node_subscribe(n, long_topic, P2P_MAX_TOPIC_LEN + 1), P2P_EINVAL);
    CHECK_RC(p2p_node_subscribe(n, long_topic, P2P_MAX_TOPIC_LEN), P2P_OK);
    CHECK_RC(p2p_node_subscribe(n, "a\0b", 3), P2P_EINVAL);
    CHECK(strstr(p2p_errmsg(), "NUL") != NULL);
    CHECK_RC(p2p_node_subscribe(n, "t", SIZE_MAX), P2P_EINVAL);
    CHECK_RC(p2p_node_unsubscribe(n, "", 0), P2P_EINVAL);
    CHECK_RC(p2p_node_unsubscribe(n, "never", 5), P2P_OK);
    CHECK_RC(p2p_node_publish(n, "t", 1, NULL, 1, 0), P2P_EINVAL);
    CHECK_RC(p2p_node_publish(n, "t", 1, "x", 1, P2P_COMPRESSION_ZLIB), P2P_EINVAL);
    CHECK_RC(p2p_node_publish(n, "t", 1, "x", SIZE_MAX, 0), P2P_ETOOBIG);
    CHECK_RC(p2p_node_publish(n, NULL, 0, "x", 1, 0), P2P_EINVAL);
    CHECK_RC(p2p_node_publish(n, "t", 1, NULL, 0, 0), P2P_OK); /* to nobody */
    CHECK_RC(p2p_node_discover(n, 3), P2P_OK);
    CHECK_RC(p2p_node_discover(n, 1), P2P_OK); /* a new target */
    /* after stop */
    REQUIRE(p2p_node_stop(n) == P2P_OK);
    CHECK_RC(p2p_node_publish(n, "t", 1, "x", 1, 0), P2P_ESTOPPED);
    CHECK_RC(p2p_node_known_peers_buf(n, &b, &count), P2P_OK);
    p2p_buf_free(&b);
out:
    if (n) p2p_node_free(n);
}
