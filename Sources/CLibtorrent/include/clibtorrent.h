/*
 * clibtorrent.h: a thin C face over libtorrent-rasterbar 2.0, for Swift.
 *
 * Rules of this boundary:
 *  - Opaque handles and plain structs only; no C++ type appears here.
 *  - No C++ exception crosses it: every function catches everything and
 *    reports through an mt_error (code != 0, message set).
 *  - Functions marked BLOCKING make a round trip to libtorrent's network
 *    thread (or to disk). Callers must run them off any event loop and off
 *    Swift's cooperative thread pool.
 *  - Memory returned through `uint8_t **out` / `char *` fields is malloc'd
 *    and freed with mt_free / mt_alerts_free.
 */
#ifndef CLIBTORRENT_H
#define CLIBTORRENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mt_session mt_session;
typedef struct mt_torrent mt_torrent;
typedef struct mt_info mt_info;

typedef struct {
    int code; /* 0: no error */
    char message[512];
} mt_error;

void mt_free(void *p);

/* ---- settings: libtorrent settings_pack entries by name ---- */

enum { MT_SETTING_STRING = 0, MT_SETTING_INT = 1, MT_SETTING_BOOL = 2 };

typedef struct {
    const char *name;
    int kind;
    const char *string_value;
    int64_t int_value; /* also the bool */
} mt_setting;

/* ---- session ---- */

/* Creates a session. `state` (may be NULL) is a buffer written earlier by
 * mt_session_save_state (the DHT routing table among other things). The alert
 * mask is set by the shim to what TorrentKit reads. */
mt_session *mt_session_new(const mt_setting *settings, size_t count, const uint8_t *state,
                           size_t state_len, mt_error *err);
/* BLOCKING: stops the session (waits for trackers to be told, files closed). */
void mt_session_free(mt_session *s);
int mt_session_apply_settings(mt_session *s, const mt_setting *settings, size_t count, mt_error *err);
/* BLOCKING */
int mt_session_save_state(mt_session *s, uint8_t **out, size_t *out_len, mt_error *err);
/* BLOCKING: the TCP port the session listens on, 0 if none. */
int mt_session_listen_port(mt_session *s);
void mt_session_add_dht_node(mt_session *s, const char *host, int port);
/* libtorrent puts peers on local networks (loopback, 10/8, 192.168/16, ...) in
 * a peer class without rate limits. true: every peer in the global class, so
 * the session's rate limits apply to local peers too. */
void mt_session_limit_local_peers(mt_session *s, bool limited);
/* ---- DHT (BEP 44 mutable items) ---- */

/* Stores a mutable item signed by the caller (the signature covers the BEP 44
 * buffer "4:salt<n>:<salt>3:seqi<seq>e1:v<value>", salt part omitted when empty).
 * value: the bencoded value, at most 1000 bytes. Anyone may store an item
 * signed by someone else. Posts MT_ALERT_DHT_PUT once, when every DHT node of
 * the session has finished, with the nodes that stored it added up. */
void mt_session_dht_put_mutable(mt_session *s, const uint8_t key[32], const uint8_t sig[64], int64_t seq,
                                const uint8_t *salt, size_t salt_len, const uint8_t *value, size_t value_len);
/* Looks up a mutable item: MT_ALERT_DHT_MUTABLE_ITEM, first as answers come,
 * then once with authoritative set, when every DHT node of the session (one
 * per listen socket) has finished: libtorrent 2.0.8 counts them. */
void mt_session_dht_get_mutable(mt_session *s, const uint8_t key[32], const uint8_t *salt, size_t salt_len);
/* Asks the DHT who has a torrent: MT_ALERT_DHT_PEERS for each reply that
 * carried peers, from each DHT node of the session (one per listen socket);
 * nothing marks the end of the lookup. */
void mt_session_dht_get_peers(mt_session *s, const uint8_t info_hash[20]);
/* Asks for one MT_ALERT_DHT_STATS: the nodes in every DHT routing table of
 * the session, added up. */
void mt_session_post_dht_stats(mt_session *s);

/* Asks for one state_update alert carrying the status of every torrent that
 * changed since the last one. */
void mt_session_post_torrent_updates(mt_session *s);

/* ---- adding torrents ---- */

enum {
    MT_ADD_STREAMING = 1 << 0,   /* new files default to "don't download"; not auto-managed */
    MT_ADD_SEED_MODE = 1 << 1,   /* the data is known good (we just hashed it) */
    MT_ADD_PAUSED = 1 << 2,
    MT_ADD_NO_TRACKERS = 1 << 3, /* drop the trackers and web seeds of the torrent, its magnet and its resume data */
};

typedef struct {
    /* Exactly one of magnet / torrent_data is set. */
    const char *magnet;
    const uint8_t *torrent_data;
    size_t torrent_len;
    const uint8_t *resume_data; /* may be NULL */
    size_t resume_len;
    const char *save_path;
    int flags; /* MT_ADD_* */
    const char *const *trackers;
    size_t tracker_count;
} mt_add_params;

/* BLOCKING. Returns a handle owned by the caller (mt_torrent_free). */
mt_torrent *mt_session_add(mt_session *s, const mt_add_params *p, mt_error *err);
void mt_session_remove(mt_session *s, mt_torrent *t, bool delete_files);

/* ---- torrent handle (non-blocking unless marked) ---- */

void mt_torrent_free(mt_torrent *t);
/* 20-byte id: the v1 info-hash if the torrent has one, else the v2 hash truncated. */
void mt_torrent_id(mt_torrent *t, uint8_t out[20]);
void mt_torrent_set_piece_deadline(mt_torrent *t, int piece, int deadline_ms);
/* Clears the deadline and puts back `priority` (libtorrent would leave 1). */
void mt_torrent_reset_piece_deadline(mt_torrent *t, int piece, int priority);
void mt_torrent_prioritize_files(mt_torrent *t, const uint8_t *priorities, size_t count);
void mt_torrent_prioritize_pieces(mt_torrent *t, const uint8_t *priorities, size_t count);
void mt_torrent_set_piece_priority(mt_torrent *t, int piece, int priority);
/* Sequential download on or off: the top-priority pieces first, then the
   others in index order (see docs/streaming.md). */
void mt_torrent_set_sequential(mt_torrent *t, int on);
void mt_torrent_connect_peer(mt_torrent *t, const char *host, int port);
void mt_torrent_set_upload_limit(mt_torrent *t, int bytes_per_second);
/* Announces again to trackers and the DHT now. */
void mt_torrent_force_reannounce(mt_torrent *t);
/* Closes every peer connection of the torrent and lets it connect again. */
void mt_torrent_drop_connections(mt_torrent *t);

/* Takes the torrent out of upload mode, which a failed write (a full disk)
   put it in: it requests pieces again, and a write that fails again puts it back. */
void mt_torrent_retry_writes(mt_torrent *t);

void mt_torrent_pause(mt_torrent *t);
void mt_torrent_resume(mt_torrent *t);
/* Posts a save_resume_data alert (or a failed one). */
void mt_torrent_save_resume_data(mt_torrent *t);
/* BLOCKING: NULL until the metadata is known. Caller frees with mt_info_free. */
mt_info *mt_torrent_info(mt_torrent *t);
typedef struct {
    char *address; /* malloc'd */
    int port;
    char *client; /* malloc'd: what the peer says it runs */
    int download_rate, upload_rate; /* payload bytes/s, from it and to it */
    float progress;                 /* 0..1 of the torrent it has */
    bool seed, encrypted, utp, incoming;
} mt_peer;
/* BLOCKING: the connected peers, a malloc'd array; free with mt_peers_free. */
size_t mt_torrent_peers(mt_torrent *t, mt_peer **out);
void mt_peers_free(mt_peer *p, size_t count);

/* BLOCKING: the verified-piece bitfield, one byte per piece (0/1). */
int mt_torrent_have_pieces(mt_torrent *t, uint8_t *out, size_t count);

typedef struct {
    int state; /* libtorrent torrent_status::state_t */
    bool has_metadata, is_seeding, is_finished, paused;
    bool upload_mode; /* no piece requests: libtorrent's answer to a failed write */
    float progress; /* 0..1 of what is wanted */
    int download_rate, upload_rate; /* payload bytes/s */
    int num_peers, num_seeds, list_peers, list_seeds;
    int num_pieces; /* verified */
    int64_t total_done, total_wanted, total_wanted_done;
    int64_t all_time_download, all_time_upload; /* payload, across runs */
    int64_t total_download, total_upload;        /* payload, this run */
    int64_t seeding_seconds, active_seconds;
    int64_t total_failed_bytes, total_redundant_bytes;
} mt_status;

/* BLOCKING */
int mt_torrent_status(mt_torrent *t, mt_status *out);

/* ---- metadata ---- */

/* Parses a .torrent (bencoded) with size limits. Caller frees. */
mt_info *mt_info_parse(const uint8_t *data, size_t len, mt_error *err);
void mt_info_free(mt_info *i);
void mt_info_id(const mt_info *i, uint8_t out[20]);
bool mt_info_has_v1(const mt_info *i);
bool mt_info_has_v2(const mt_info *i);
/* Hex of the v2 (SHA-256) info-hash into out (65 bytes), empty if none. */
void mt_info_v2_hex(const mt_info *i, char out[65]);
const char *mt_info_name(const mt_info *i);
int mt_info_piece_length(const mt_info *i);
int mt_info_num_pieces(const mt_info *i);
int64_t mt_info_total_size(const mt_info *i);
int mt_info_num_files(const mt_info *i);
/* Path as libtorrent will store it, relative to the save path, '/' separated. */
char *mt_info_file_path(const mt_info *i, int file); /* malloc'd */
int64_t mt_info_file_size(const mt_info *i, int file);
int64_t mt_info_file_offset(const mt_info *i, int file);
bool mt_info_file_is_pad(const mt_info *i, int file);
/* The raw bencoded info dictionary, as hashed. */
const uint8_t *mt_info_info_section(const mt_info *i, size_t *len);
/* The whole .torrent file as bencode (for saving a magnet's metadata). */
int mt_info_torrent_file(const mt_info *i, uint8_t **out, size_t *out_len, mt_error *err);

/* Parses a magnet URI; fills the 20-byte id. Returns 0 on success. */
int mt_parse_magnet(const char *uri, uint8_t out_id[20], mt_error *err);

/* ---- making torrents ---- */

/* Called once per hashed piece from the hashing thread. */
typedef void (*mt_progress_fn)(void *ctx, int piece, int num_pieces);

/* BLOCKING (hashes the files). Hybrid v1+v2 torrent of a file or folder. */
int mt_create_torrent(const char *path, int piece_size, const char *const *trackers, size_t tracker_count,
                      const char *const *web_seeds, size_t web_seed_count, const char *creator,
                      mt_progress_fn progress, void *ctx, uint8_t **out, size_t *out_len, mt_error *err);

/* ---- alerts ---- */

enum {
    MT_ALERT_OTHER = 0,
    MT_ALERT_PIECE_FINISHED,
    MT_ALERT_METADATA_RECEIVED,
    MT_ALERT_TORRENT_CHECKED,
    MT_ALERT_TORRENT_FINISHED,
    MT_ALERT_STATE_UPDATE,
    MT_ALERT_SAVE_RESUME_DATA,
    MT_ALERT_SAVE_RESUME_DATA_FAILED,
    MT_ALERT_TORRENT_ERROR,
    MT_ALERT_FILE_ERROR,
    MT_ALERT_LISTEN_SUCCEEDED,
    MT_ALERT_LISTEN_FAILED,
    MT_ALERT_TRACKER_ERROR,
    MT_ALERT_HASH_FAILED,
    MT_ALERT_TORRENT_REMOVED,
    MT_ALERT_PEER_CONNECTED,
    MT_ALERT_METADATA_FAILED,
    MT_ALERT_DHT_MUTABLE_ITEM, /* key, sig, seq, salt, authoritative; data = bencoded value (empty: not found) */
    MT_ALERT_DHT_PUT,          /* key, sig, seq, salt; count = nodes that stored it */
    MT_ALERT_DHT_STATS,        /* count = nodes in the routing tables of all DHT nodes */
    MT_ALERT_PEER_DISCONNECTED, /* message: the peer and the reason; address, port: the peer;
                                   count: 1 if the connection had been established */
    MT_ALERT_DHT_PEERS,        /* key[0..20): the info-hash; count: peers in this reply;
                                  message: them, "host:port" a line ([v6]:port) */
    MT_ALERT_PEER_BANNED,      /* address, port: a peer banned for sending data that failed its hash check */
    MT_ALERT_PROXY_ERROR,      /* message: what failed; address, port: the proxy (when known) */
};
/* MT_ALERT_FILE_ERROR: message is "error: file"; count is 1 when the disk is
   full (ENOSPC, EDQUOT or EFBIG), 0 for any other error; address: the file. */

typedef struct {
    int type;               /* MT_ALERT_* */
    bool has_torrent;       /* id is meaningful */
    uint8_t id[20];         /* mt_torrent_id of the torrent concerned */
    int piece;              /* piece_finished, hash_failed */
    int port;               /* listen_*: the port; */
    bool is_tcp;            /* listen_*: TCP (not uTP/UDP) socket */
    char *message;          /* malloc'd, human readable; may be NULL */
    uint8_t *data;          /* malloc'd: resume data */
    size_t data_len;
    mt_status status;       /* state_update */
    uint8_t key[32];        /* dht_*: the item's public key */
    uint8_t sig[64];        /* dht_*: its signature */
    int64_t seq;            /* dht_*: its sequence number */
    uint8_t *salt;          /* dht_*: malloc'd, may be NULL when salt_len is 0 */
    size_t salt_len;
    bool authoritative;     /* dht_mutable_item: the lookup has finished */
    int count;              /* dht_put: nodes that stored it; dht_stats: routing table size */
    char *address;          /* peer_disconnected: malloc'd IP address of the peer */
} mt_alert;

/* Waits up to timeout_ms for alerts, then moves them into a malloc'd array.
 * Returns the count (0 on timeout). Free with mt_alerts_free. */
size_t mt_session_wait_alerts(mt_session *s, int timeout_ms, mt_alert **out);
void mt_alerts_free(mt_alert *alerts, size_t count);

#ifdef __cplusplus
}
#endif

#endif
