/*
 * driver.c - the C driver of the cross-language demo and test (tests/crosslang):
 * a p2pnode node driven over stdin/stdout by the line protocol that every
 * language's driver speaks.
 *
 *     driver <name> [port]
 *
 * It starts a node on 127.0.0.1 (port 0: a free one) with id <name>, prints
 * "READY <port>", then answers one line per command read from stdin:
 *
 *     connect <port> [reconnect]            OK connect <peer-id> | ERR connect <code> <message>
 *     send <peer-id> <compression> <hex|->  OK send | ERR send <code> <message>
 *     broadcast <compression> <hex|->       OK broadcast | ERR broadcast <code> <message>
 *     disconnect <peer-id>                  OK disconnect | ERR disconnect <code> <message>
 *     peers                                 OK peers <id>,<id>,... | OK peers -
 *     key                                   OK key <hex> (its public identity key)
 *     peer <peer-id>                        OK peer <peer-id> encrypted <key-hex> | OK peer <peer-id> plaintext -
 *     discover <target-peers>               OK discover | ERR discover <code> <message>
 *     known                                 OK known <id>@<host>:<port>,... | OK known -
 *     subscribe <topic>                     OK subscribe | ERR subscribe <code> <message>
 *     unsubscribe <topic>                   OK unsubscribe | ERR unsubscribe <code> <message>
 *     publish <topic> <hex|->               OK publish | ERR publish <code> <message>
 *     stop (or end of input)                the stop events, then OK stop; exit 0
 *
 * With P2P_IDENTITY=<path> in its environment it loads its identity key from
 * that file, or saves the node's generated one there when the file does not
 * exist, so a driver restarted under the same name keeps its key.
 *
 * Events (from the node's event thread, as they come; the sized p2p_ev of
 * p2p_node_set_handler, as the 0.2 callback never sees topic messages):
 *
 *     EVENT <event-name> <peer-id|-> <kind|-> <compression|-> <hex|->
 *     EVENT node_reconnection_error <host>:<port> <trials> - -   (answered yes)
 *     EVENT node_topic_message <peer-id> <kind> <compression> <hex|-> <topic> <origin-id>
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

/* say writes one protocol line and flushes it. */
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

static const char *const KINDS[] = {"json", "text", "bytes"};
static const char *const CODECS[] = {"none", "zlib", "bzip2", "lzma"};

static const char *event_name(int type) {
    const char *name = p2p_event_name(type);
    return name != NULL ? name : "unknown_event";
}

/* to_hex returns a malloc'd lowercase hex string of data, "-" when empty. */
static char *to_hex(const uint8_t *data, size_t len) {
    static const char digits[] = "0123456789abcdef";
    char *s = malloc(len ? 2 * len + 1 : 2);
    if (s == NULL) return NULL;
    if (len == 0) {
        strcpy(s, "-");
        return s;
    }
    for (size_t i = 0; i < len; i++) {
        s[2 * i] = digits[data[i] >> 4];
        s[2 * i + 1] = digits[data[i] & 15];
    }
    s[2 * len] = '\0';
    return s;
}

static int nibble(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* from_hex decodes s ("-": empty) into a malloc'd buffer; -1 when malformed. */
static int from_hex(const char *s, uint8_t **out, size_t *len) {
    size_t n = strcmp(s, "-") == 0 ? 0 : strlen(s);
    if (n % 2 != 0) return -1;
    uint8_t *b = malloc(n / 2 + 1);
    if (b == NULL) return -1;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = nibble(s[2 * i]), lo = nibble(s[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            free(b);
            return -1;
        }
        b[i] = (uint8_t)(hi << 4 | lo);
    }
    *out = b;
    *len = n / 2;
    return 0;
}

static int parse_codec(const char *s) {
    for (int i = 0; i < 4; i++)
        if (strcmp(s, CODECS[i]) == 0) return i;
    return -1;
}

static int on_event(void *user, const p2p_ev *ev) {
    (void)user;
    const char *name = event_name(ev->type);
    switch (ev->type) {
    case P2P_EVENT_MESSAGE:
    case P2P_EVENT_TOPIC_MESSAGE: {
        char *hex = to_hex(ev->data, ev->data_len);
        const char *kind = ev->kind >= 0 && ev->kind <= 2 ? KINDS[ev->kind] : "?";
        const char *codec = ev->compression >= 0 && ev->compression <= 3 ? CODECS[ev->compression] : "?";
        if (ev->type == P2P_EVENT_MESSAGE)
            say("EVENT %s %s %s %s %s", name, ev->peer_id, kind, codec, hex ? hex : "?");
        else
            say("EVENT %s %s %s %s %s %.*s %.*s", name, ev->peer_id, kind, codec, hex ? hex : "?",
                (int)ev->topic_len, ev->topic, (int)ev->origin_len, ev->origin);
        free(hex);
        break;
    }
    case P2P_EVENT_RECONNECTION_ERROR:
        say("EVENT %s %s:%d %d - -", name, ev->host, (int)ev->port, (int)ev->trials);
        return 1;
    case P2P_EVENT_REQUEST_TO_STOP:
        say("EVENT %s - - - -", name);
        break;
    default:
        say("EVENT %s %s - - -", name, ev->peer_id);
    }
    return 1;
}

/* peer_id copies a peer's node id into buf (P2P_MAX_ID_LEN + 1 bytes); 0 when the peer is gone. */
static int peer_id(p2p_node *node, uint64_t peer, char *buf) {
    p2p_peer facts;
    P2P_INIT(&facts);
    if (p2p_peer_facts(node, peer, &facts) != P2P_OK) return 0;
    snprintf(buf, P2P_MAX_ID_LEN + 1, "%s", facts.id);
    p2p_buf_free(&facts.mem);
    return 1;
}

/* find_peer looks a peer up by its node id; 0 when there is none. */
static int find_peer(p2p_node *node, const char *id, uint64_t *out) {
    p2p_buf list = P2P_BUF_INIT;
    if (p2p_node_peers_buf(node, P2P_ALL, &list) != P2P_OK) return 0;
    const uint64_t *peers = (const uint64_t *)list.data;
    size_t got = list.len / sizeof *peers;
    static char buf[P2P_MAX_ID_LEN + 1];
    int found = 0;
    for (size_t i = 0; i < got && !found; i++) {
        if (peer_id(node, peers[i], buf) && strcmp(buf, id) == 0) {
            *out = peers[i];
            found = 1;
        }
    }
    p2p_buf_free(&list);
    return found;
}

static void fail(const char *cmd, int rc) { say("ERR %s %d %s", cmd, rc, p2p_errmsg()); }

static void list_peers(p2p_node *node) {
    p2p_buf handles = P2P_BUF_INIT;
    p2p_node_peers_buf(node, P2P_ALL, &handles);
    const uint64_t *peers = (const uint64_t *)handles.data;
    size_t got = handles.len / sizeof *peers;
    size_t cap = 64, len = 0;
    char *list = malloc(cap);
    static char buf[P2P_MAX_ID_LEN + 1];
    for (size_t i = 0; list != NULL && i < got; i++) {
        if (!peer_id(node, peers[i], buf)) continue;
        size_t n = strlen(buf);
        if (len + n + 2 > cap) {
            cap = 2 * (len + n + 2);
            char *l = realloc(list, cap);
            if (l == NULL) break;
            list = l;
        }
        if (len > 0) list[len++] = ',';
        memcpy(list + len, buf, n);
        len += n;
    }
    if (list != NULL) list[len] = '\0';
    say("OK peers %s", list != NULL && len > 0 ? list : "-");
    free(list);
    p2p_buf_free(&handles);
}

/* say_key prints "OK key <hex>": the node's public identity key. */
static void say_key(p2p_node *node) {
    p2p_buf key = P2P_BUF_INIT;
    int rc = p2p_node_public_key_buf(node, &key);
    char *hex = rc == P2P_OK ? to_hex(key.data, key.len) : NULL;
    if (hex != NULL) say("OK key %s", hex);
    else fail("key", rc != P2P_OK ? rc : P2P_EINTERNAL);
    free(hex);
    p2p_buf_free(&key);
}

/* say_peer prints a peer's link: encrypted with its key, or plaintext. */
static void say_peer(p2p_node *node, const char *id) {
    uint64_t peer;
    p2p_peer facts;
    P2P_INIT(&facts);
    if (!find_peer(node, id, &peer) || p2p_peer_facts(node, peer, &facts) != P2P_OK) {
        say("ERR peer %d no peer %s", P2P_ENOPEER, id);
        return;
    }
    char *hex = facts.encrypted ? to_hex(facts.key, P2P_KEY_LEN) : NULL;
    say("OK peer %s %s %s", facts.id, hex ? "encrypted" : "plaintext", hex ? hex : "-");
    free(hex);
    p2p_buf_free(&facts.mem);
}

/* say_known prints "OK known <id>@<host>:<port>,...": the node's address book. */
static void say_known(p2p_node *node) {
    p2p_buf book = P2P_BUF_INIT;
    size_t count = 0;
    int rc = p2p_node_known_peers_buf(node, &book, &count);
    if (rc != P2P_OK) {
        fail("known", rc);
        return;
    }
    size_t cap = 2, len = 0;
    for (size_t i = 0; i < count; i++) cap += P2P_BUF_PEER(&book, i)->id_len + P2P_BUF_PEER(&book, i)->host_len + 16;
    char *list = malloc(cap);
    for (size_t i = 0; list != NULL && i < count; i++) {
        const p2p_peer *k = P2P_BUF_PEER(&book, i);
        len += (size_t)snprintf(list + len, cap - len, "%s%s@%s:%d", i ? "," : "", k->id, k->host, (int)k->port);
    }
    if (list == NULL) fail("known", P2P_EINTERNAL);
    else say("OK known %s", len > 0 ? list : "-");
    free(list);
    p2p_buf_free(&book);
}

/* gossip runs the topic and discovery commands: 1 when it did, -1 for bad
 * arguments, 0 when cmd is none of them. */
static int gossip(p2p_node *node, int argc, char **argv) {
    const char *cmd = argv[0];
    int rc;
    if (strcmp(cmd, "discover") == 0 && argc == 2) {
        char *end;
        long k = strtol(argv[1], &end, 10);
        if (*end != '\0') return -1;
        rc = p2p_node_discover(node, (int)k);
    } else if (strcmp(cmd, "known") == 0 && argc == 1) {
        say_known(node);
        return 1;
    } else if (strcmp(cmd, "subscribe") == 0 && argc == 2) {
        rc = p2p_node_subscribe(node, argv[1], strlen(argv[1]));
    } else if (strcmp(cmd, "unsubscribe") == 0 && argc == 2) {
        rc = p2p_node_unsubscribe(node, argv[1], strlen(argv[1]));
    } else if (strcmp(cmd, "publish") == 0 && argc == 3) {
        uint8_t *data;
        size_t len;
        if (from_hex(argv[2], &data, &len) != 0) return -1;
        rc = p2p_node_publish(node, argv[1], strlen(argv[1]), data, len, P2P_COMPRESSION_NONE);
        free(data);
    } else {
        const char *const names[] = {"discover", "known", "subscribe", "unsubscribe", "publish"};
        for (size_t i = 0; i < sizeof names / sizeof *names; i++)
            if (strcmp(cmd, names[i]) == 0) return -1;
        return 0;
    }
    if (rc != P2P_OK) fail(cmd, rc);
    else say("OK %s", cmd);
    return 1;
}

static void command(p2p_node *node, char *line) {
    char *argv[5];
    int argc = 0;
    for (char *tok = strtok(line, " \t\r\n"); tok != NULL; tok = strtok(NULL, " \t\r\n")) {
        if (argc == 5) {
            argc++;
            break;
        }
        argv[argc++] = tok;
    }
    if (argc == 0) return;
    const char *cmd = argv[0];
    int handled;
    if (strcmp(cmd, "connect") == 0) {
        if (argc < 2 || argc > 3) goto usage;
        char *end;
        long port = strtol(argv[1], &end, 10);
        if (*end != '\0') goto usage;
        int reconnect = argc == 3 && strcmp(argv[2], "reconnect") == 0;
        uint64_t peer = 0;
        int rc = p2p_node_connect(node, "127.0.0.1", (int)port, reconnect, &peer);
        if (rc != P2P_OK) {
            fail(cmd, rc);
            return;
        }
        char id[P2P_MAX_ID_LEN + 1];
        if (!peer_id(node, peer, id)) strcpy(id, "-");
        say("OK connect %s", id);
    } else if (strcmp(cmd, "send") == 0 || strcmp(cmd, "broadcast") == 0) {
        int bc = cmd[0] == 'b';
        if (argc != (bc ? 3 : 4)) goto usage;
        int codec = parse_codec(argv[argc - 2]);
        uint8_t *data;
        size_t len;
        if (codec < 0 || from_hex(argv[argc - 1], &data, &len) != 0) goto usage;
        int rc;
        if (bc) {
            rc = p2p_node_broadcast(node, data, len, NULL, 0, codec);
        } else {
            uint64_t peer;
            if (!find_peer(node, argv[1], &peer)) {
                free(data);
                say("ERR send %d no peer %s", P2P_ENOPEER, argv[1]);
                return;
            }
            rc = p2p_node_send(node, peer, data, len, codec);
        }
        free(data);
        if (rc != P2P_OK) {
            fail(cmd, rc);
            return;
        }
        say("OK %s", cmd);
    } else if (strcmp(cmd, "disconnect") == 0) {
        if (argc != 2) goto usage;
        uint64_t peer;
        if (!find_peer(node, argv[1], &peer)) {
            say("ERR disconnect %d no peer %s", P2P_ENOPEER, argv[1]);
            return;
        }
        int rc = p2p_node_disconnect(node, peer);
        if (rc != P2P_OK) {
            fail(cmd, rc);
            return;
        }
        say("OK disconnect");
    } else if (strcmp(cmd, "peers") == 0) {
        list_peers(node);
    } else if (strcmp(cmd, "key") == 0) {
        say_key(node);
    } else if (strcmp(cmd, "peer") == 0) {
        if (argc != 2) goto usage;
        say_peer(node, argv[1]);
    } else if ((handled = gossip(node, argc, argv)) != 0) {
        if (handled < 0) goto usage;
    } else {
        say("ERR %s %d unknown command", cmd, P2P_EINVAL);
    }
    return;
usage:
    say("ERR %s %d bad arguments", cmd, P2P_EINVAL);
}

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: driver <name> [port]\n");
        return 2;
    }
    int port = argc == 3 ? atoi(argv[2]) : 0;
    p2p_node *node = NULL;
    const char *identity = getenv("P2P_IDENTITY");
    int rc = p2p_node_new("127.0.0.1", port, argv[1], 0, &node);
    if (rc == P2P_OK && identity != NULL && *identity != '\0')
        rc = access(identity, F_OK) == 0 ? p2p_node_identity_load(node, identity)
                                         : p2p_node_identity_save(node, identity);
    if (rc == P2P_OK) rc = p2p_node_set_handler(node, on_event, NULL);
    if (rc == P2P_OK) rc = p2p_node_start(node);
    if (rc != P2P_OK) {
        fprintf(stderr, "driver: %s (%s)\n", p2p_errmsg(), p2p_strerror(rc));
        return 1;
    }
    p2p_node_port(node, &port);
    say("READY %d", port);

    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, stdin) != -1) {
        char first[16] = {0};
        if (sscanf(line, "%15s", first) == 1 && strcmp(first, "stop") == 0) break;
        command(node, line);
    }
    free(line);
    p2p_node_stop(node); /* the events of stopping are delivered before it returns */
    p2p_node_free(node);
    say("OK stop");
    return 0;
}
