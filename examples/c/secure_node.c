/*
 * secure_node.c - a command-line secure node, as p2psecure's
 * examples/secure_node.py: signed JSON messages, ping and discovery.
 *
 *     secure_node <key-file> <password> [port]
 *
 * The key file is loaded when it exists, otherwise a new 4096-bit key is
 * generated and saved there. Then it prints "READY <port> <id>" and reads
 * commands from stdin: connect <host> <port>, message <json>, ping,
 * discovery, status, stop. The exact lines it reads and writes are in
 * tests/crosslang/README.md ("The secure node examples").
 */
#define _POSIX_C_SOURCE 200809L
#include <p2pnode.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER;

/* say writes one line and flushes it; events come from another thread. */
static void say(const char *fmt, ...) {
    va_list ap;
    pthread_mutex_lock(&out_mu);
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
    pthread_mutex_unlock(&out_mu);
}

static const char *direction(int d) { return d == P2P_INBOUND ? "inbound" : "outbound"; }

/* on_event prints each event as one line. */
static int on_event(void *user, const p2p_event *ev) {
    (void)user;
    switch (ev->type) {
    case P2P_EVENT_INBOUND_CONNECTED:
    case P2P_EVENT_OUTBOUND_CONNECTED:
        say("EVENT connected %s %s", ev->peer_id, direction(ev->direction));
        break;
    case P2P_EVENT_INBOUND_DISCONNECTED:
    case P2P_EVENT_OUTBOUND_DISCONNECTED:
        say("EVENT disconnected %s", ev->peer_id);
        break;
    case P2P_EVENT_SECURE_MESSAGE:
        say("EVENT message %s %s %s %.*s", ev->peer_id, ev->sender_id, ev->msg_type, (int)ev->data_len,
            (const char *)ev->data);
        break;
    case P2P_EVENT_MESSAGE_REJECTED:
        say("EVENT rejected %s %d %s", ev->peer_id, ev->reject, ev->reason);
        break;
    case P2P_EVENT_DISCOVERY_ANSWER: {
        size_t cap = 2, off = 0;
        for (size_t i = 0; i < ev->n_nodes; i++) cap += strlen(ev->nodes[i].id) + strlen(ev->nodes[i].host) + 24;
        char *list = malloc(cap);
        if (!list) break;
        strcpy(list, "-");
        for (size_t i = 0; i < ev->n_nodes; i++) {
            const p2p_discovered *d = &ev->nodes[i];
            off += (size_t)snprintf(list + off, cap - off, "%s%s@%s:%d/%s", i ? "," : "", d->id, d->host, d->port,
                                    direction(d->direction));
        }
        say("EVENT discovery_answer %s %s %s", ev->peer_id, ev->sender_id, list);
        free(list);
        break;
    }
    }
    return 1;
}

/* reply prints "OK <cmd>" or "ERR <cmd> <code> <message>" for rc. */
static void reply(const char *cmd, int rc) {
    if (rc == P2P_OK) say("OK %s", cmd);
    else say("ERR %s %d %s", cmd, rc, p2p_errmsg());
}

/* status prints every peer with its last ping latency. */
static void status(p2p_node *node) {
    p2p_buf list = P2P_BUF_INIT;
    if (p2p_node_peers_buf(node, P2P_ALL, &list) != P2P_OK) return;
    const uint64_t *peers = (const uint64_t *)list.data;
    size_t n = list.len / sizeof *peers;
    char line[65536] = "OK status ";
    size_t off = strlen(line);
    for (size_t i = 0; i < n && off < sizeof line; i++) {
        p2p_peer facts;
        P2P_INIT(&facts);
        if (p2p_peer_facts(node, peers[i], &facts) != P2P_OK) continue;
        p2p_buf ping = P2P_BUF_INIT;
        int has_ping = p2p_peer_get_info_buf(node, peers[i], "ping", &ping) == P2P_OK;
        off += (size_t)snprintf(line + off, sizeof line - off, "%s%s=%.*s", off > 10 ? "," : "", facts.id,
                                has_ping ? (int)ping.len : 1, has_ping ? (const char *)ping.data : "-");
        p2p_buf_free(&ping);
        p2p_buf_free(&facts.mem);
    }
    p2p_buf_free(&list);
    say("%s", off > 10 ? line : "OK status -");
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s <key-file> <password> [port]\n", argv[0]);
        return 2;
    }
    const char *key_file = argv[1], *password = argv[2];
    int port = argc > 3 ? atoi(argv[3]) : 0;
    p2p_node *node;
    if (p2p_secure_node_new("127.0.0.1", port, NULL, 0, NULL, &node) != P2P_OK) {
        fprintf(stderr, "secure_node: %s\n", p2p_errmsg());
        return 1;
    }
    int rc;
    if (access(key_file, F_OK) == 0) {
        rc = p2p_secure_key_load(node, key_file, password);
    } else {
        fprintf(stderr, "New node: generating a 4096-bit key, which can take a few seconds...\n");
        rc = p2p_secure_key_generate(node, 0);
        if (rc == P2P_OK) rc = p2p_secure_key_save(node, key_file, password, P2P_KEY_FORMAT_P2PNODE);
    }
    if (rc == P2P_OK) rc = p2p_node_set_callback(node, on_event, NULL);
    if (rc == P2P_OK) rc = p2p_node_start(node);
    if (rc != P2P_OK) {
        fprintf(stderr, "secure_node: %s\n", p2p_errmsg());
        p2p_node_free(node);
        return 1;
    }
    p2p_buf id = P2P_BUF_INIT;
    p2p_node_id_buf(node, &id);
    p2p_node_port(node, &port);
    say("READY %d %.*s", port, (int)id.len, (const char *)id.data);
    p2p_buf_free(&id);

    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, stdin)) > 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
        char host[256];
        int peer_port;
        if (strncmp(line, "connect ", 8) == 0 && sscanf(line + 8, "%255s %d", host, &peer_port) == 2) {
            uint64_t peer;
            rc = p2p_node_connect(node, host, peer_port, 0, &peer);
            p2p_peer facts;
            P2P_INIT(&facts);
            if (rc == P2P_OK) rc = p2p_peer_facts(node, peer, &facts);
            if (rc == P2P_OK) say("OK connect %s", facts.id);
            else reply("connect", rc);
            p2p_buf_free(&facts.mem);
        } else if (strncmp(line, "message ", 8) == 0) {
            reply("message", p2p_secure_send_message(node, line + 8, strlen(line + 8)));
        } else if (strcmp(line, "ping") == 0) {
            reply("ping", p2p_secure_send_ping(node));
        } else if (strcmp(line, "discovery") == 0) {
            reply("discovery", p2p_secure_send_discovery(node));
        } else if (strcmp(line, "status") == 0) {
            status(node);
        } else if (strcmp(line, "stop") == 0) {
            break;
        } else if (n > 0) {
            say("ERR %s %d unknown command", line, P2P_EINVAL);
        }
    }
    free(line);
    p2p_node_stop(node); /* the disconnected events still print */
    say("OK stop");
    p2p_node_free(node);
    return 0;
}
