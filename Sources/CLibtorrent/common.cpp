// Helpers shared by the shim's files (internal.hpp).

#include "internal.hpp"

#include <chrono>
#include <cstdlib>
#include <cstring>

namespace mt {

void set_error(mt_error *err, int code, const std::string &msg) {
    if (!err) return;
    err->code = code == 0 ? -1 : code;
    std::snprintf(err->message, sizeof(err->message), "%s", msg.c_str());
}

void clear_error(mt_error *err) {
    if (!err) return;
    err->code = 0;
    err->message[0] = 0;
}

char *dup_string(const std::string &s) {
    char *p = static_cast<char *>(std::malloc(s.size() + 1));
    if (!p) return nullptr;
    std::memcpy(p, s.data(), s.size());
    p[s.size()] = 0;
    return p;
}

uint8_t *dup_bytes(const char *data, size_t len) {
    uint8_t *p = static_cast<uint8_t *>(std::malloc(len ? len : 1));
    if (p && len) std::memcpy(p, data, len);
    return p;
}

void id_of(const lt::info_hash_t &ih, uint8_t out[20]) {
    if (ih.has_v1()) {
        std::memcpy(out, ih.v1.data(), 20);
    } else {
        std::memcpy(out, ih.v2.data(), 20);
    }
}

// The categories TorrentKit reads; the default mask is errors only, and
// piece_finished_alert needs piece_progress (see docs/libtorrent.md);
// dht_get_peers_reply_alert needs dht_operation.
const lt::alert_category_t alert_mask = lt::alert_category::error | lt::alert_category::status |
                                        lt::alert_category::storage | lt::alert_category::piece_progress |
                                        lt::alert_category::port_mapping | lt::alert_category::connect |
                                        lt::alert_category::dht | lt::alert_category::dht_operation |
                                        lt::alert_category::peer; // peer_ban

int apply(lt::settings_pack &pack, const mt_setting *settings, size_t count, mt_error *err) {
    for (size_t i = 0; i < count; ++i) {
        const mt_setting &s = settings[i];
        int name = lt::setting_by_name(s.name ? s.name : "");
        if (name < 0) {
            set_error(err, 1, std::string("unknown engine setting: ") + (s.name ? s.name : "(null)"));
            return -1;
        }
        switch (s.kind) {
        case MT_SETTING_STRING: pack.set_str(name, s.string_value ? s.string_value : ""); break;
        case MT_SETTING_INT: pack.set_int(name, static_cast<int>(s.int_value)); break;
        case MT_SETTING_BOOL: pack.set_bool(name, s.int_value != 0); break;
        default: set_error(err, 1, "bad setting kind"); return -1;
        }
    }
    return 0;
}

void fill_status(const lt::torrent_status &st, mt_status *o) {
    std::memset(o, 0, sizeof(*o));
    o->state = static_cast<int>(st.state);
    o->has_metadata = st.has_metadata;
    o->is_seeding = st.is_seeding;
    o->is_finished = st.is_finished;
    o->paused = bool(st.flags & lt::torrent_flags::paused);
    o->upload_mode = bool(st.flags & lt::torrent_flags::upload_mode);
    o->progress = st.progress;
    o->download_rate = st.download_payload_rate;
    o->upload_rate = st.upload_payload_rate;
    o->num_peers = st.num_peers;
    o->num_seeds = st.num_seeds;
    o->list_peers = st.list_peers;
    o->list_seeds = st.list_seeds;
    o->num_pieces = st.num_pieces;
    o->total_done = st.total_done;
    o->total_wanted = st.total_wanted;
    o->total_wanted_done = st.total_wanted_done;
    o->all_time_download = st.all_time_download;
    o->all_time_upload = st.all_time_upload;
    o->total_download = st.total_payload_download;
    o->total_upload = st.total_payload_upload;
    o->seeding_seconds = std::chrono::duration_cast<std::chrono::seconds>(st.seeding_duration).count();
    o->active_seconds = std::chrono::duration_cast<std::chrono::seconds>(st.active_duration).count();
    o->total_failed_bytes = st.total_failed_bytes;
    o->total_redundant_bytes = st.total_redundant_bytes;
}

lt::load_torrent_limits limits() {
    lt::load_torrent_limits l;
    l.max_buffer_size = 32 * 1024 * 1024;
    l.max_pieces = 0x200000;
    l.max_decode_depth = 100;
    l.max_decode_tokens = 3000000;
    return l;
}

} // namespace mt

extern "C" void mt_free(void *p) { std::free(p); }
