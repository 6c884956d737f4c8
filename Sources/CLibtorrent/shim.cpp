// The only C++ in Matinee: translates the C header to libtorrent calls.
// Every entry point catches every exception (see clibtorrent.h).

#include "clibtorrent.h"

#include <libtorrent/add_torrent_params.hpp>
#include <libtorrent/bdecode.hpp>
#include <libtorrent/bencode.hpp>
#include <libtorrent/entry.hpp>
#include <libtorrent/alert_types.hpp>
#include <libtorrent/create_torrent.hpp>
#include <libtorrent/ip_filter.hpp>
#include <libtorrent/magnet_uri.hpp>
#include <libtorrent/posix_disk_io.hpp>
#include <libtorrent/read_resume_data.hpp>
#include <libtorrent/session.hpp>
#include <libtorrent/session_params.hpp>
#include <libtorrent/session_stats.hpp>
#include <libtorrent/settings_pack.hpp>
#include <libtorrent/torrent_handle.hpp>
#include <libtorrent/torrent_info.hpp>
#include <libtorrent/torrent_status.hpp>
#include <libtorrent/write_resume_data.hpp>

#include <array>
#include <chrono>
#include <iterator>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <vector>

namespace lt = libtorrent;

struct mt_session {
    std::unique_ptr<lt::session> ses;
};

struct mt_torrent {
    lt::torrent_handle handle;
};

struct mt_info {
    std::shared_ptr<const lt::torrent_info> info;
};

namespace {

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
// piece_finished_alert needs piece_progress (see notes/libtorrent.md);
// dht_get_peers_reply_alert needs dht_operation.
const lt::alert_category_t kAlertMask = lt::alert_category::error | lt::alert_category::status |
                                        lt::alert_category::storage | lt::alert_category::piece_progress |
                                        lt::alert_category::port_mapping | lt::alert_category::connect |
                                        lt::alert_category::dht | lt::alert_category::dht_operation;

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

} // namespace

extern "C" {

void mt_free(void *p) { std::free(p); }

mt_session *mt_session_new(const mt_setting *settings, size_t count, const uint8_t *state, size_t state_len,
                           mt_error *err) {
    clear_error(err);
    try {
        lt::session_params params;
        if (state && state_len > 0) {
            lt::error_code ec;
            lt::bdecode_node node = lt::bdecode(
                lt::span<const char>(reinterpret_cast<const char *>(state), static_cast<std::ptrdiff_t>(state_len)),
                ec);
            // A damaged state file only costs the DHT routing table: start fresh.
            if (!ec) params = lt::read_session_params(node, lt::session::save_dht_state);
        }
        lt::settings_pack &pack = params.settings;
        pack.set_int(lt::settings_pack::alert_mask, static_cast<int>(static_cast<std::uint32_t>(kAlertMask)));
        if (apply(pack, settings, count, err) != 0) return nullptr;
        // pwrite/pread on the network thread instead of mmap with a store
        // buffer: with mmap, a piece is hashed from the store buffer and
        // reported finished before it is in the file, and a stream that reads
        // the file then serves zeros (docs/streaming.md).
        // MATINEE_DISK_IO=mmap brings libtorrent's default back, for the
        // benchmark's side-by-side figures only.
        const char *io = std::getenv("MATINEE_DISK_IO");
        if (!(io && std::strcmp(io, "mmap") == 0)) params.disk_io_constructor = lt::posix_disk_io_constructor;
        auto s = std::make_unique<mt_session>();
        s->ses = std::make_unique<lt::session>(std::move(params));
        return s.release();
    } catch (const std::exception &e) {
        set_error(err, 2, e.what());
    } catch (...) {
        set_error(err, 2, "unknown engine error");
    }
    return nullptr;
}

void mt_session_free(mt_session *s) {
    try {
        delete s;
    } catch (...) {
    }
}

int mt_session_apply_settings(mt_session *s, const mt_setting *settings, size_t count, mt_error *err) {
    clear_error(err);
    try {
        lt::settings_pack pack;
        if (apply(pack, settings, count, err) != 0) return -1;
        s->ses->apply_settings(std::move(pack));
        return 0;
    } catch (const std::exception &e) {
        set_error(err, 2, e.what());
    } catch (...) {
        set_error(err, 2, "unknown engine error");
    }
    return -1;
}

int mt_session_save_state(mt_session *s, uint8_t **out, size_t *out_len, mt_error *err) {
    clear_error(err);
    try {
        lt::session_params p = s->ses->session_state(lt::session::save_dht_state);
        std::vector<char> buf = lt::write_session_params_buf(p, lt::session::save_dht_state);
        *out = dup_bytes(buf.data(), buf.size());
        *out_len = buf.size();
        return 0;
    } catch (const std::exception &e) {
        set_error(err, 2, e.what());
    } catch (...) {
        set_error(err, 2, "unknown engine error");
    }
    return -1;
}

int mt_session_listen_port(mt_session *s) {
    try {
        return s->ses->listen_port();
    } catch (...) {
        return 0;
    }
}

void mt_session_add_dht_node(mt_session *s, const char *host, int port) {
    try {
        s->ses->add_dht_node(std::make_pair(std::string(host), port));
    } catch (...) {
    }
}

void mt_session_limit_local_peers(mt_session *s, bool limited) {
    if (!limited) return; // libtorrent's default filter already exempts local peers
    try {
        lt::ip_filter classes;
        auto global = std::uint32_t(1) << static_cast<std::uint32_t>(lt::session::global_peer_class_id);
        classes.add_rule(lt::make_address_v4("0.0.0.0"), lt::make_address_v4("255.255.255.255"), global);
        classes.add_rule(lt::make_address_v6("::"), lt::make_address_v6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
                         global);
        s->ses->set_peer_class_filter(classes);
    } catch (...) {
    }
}

void mt_session_dht_put_mutable(mt_session *s, const uint8_t key[32], const uint8_t sig[64], int64_t seq,
                                const uint8_t *salt, size_t salt_len, const uint8_t *value, size_t value_len) {
    try {
        lt::error_code ec;
        lt::bdecode_node node = lt::bdecode(
            lt::span<const char>(reinterpret_cast<const char *>(value), static_cast<std::ptrdiff_t>(value_len)), ec);
        if (ec) return;
        lt::entry v;
        v = node;
        std::array<char, 32> k;
        std::memcpy(k.data(), key, 32);
        std::array<char, 64> signature;
        std::memcpy(signature.data(), sig, 64);
        std::string saltString(reinterpret_cast<const char *>(salt), salt ? salt_len : 0);
        // Runs on the network thread once the current holders are found: replace
        // whatever they hold with our already-signed item.
        s->ses->dht_put_item(
            k,
            [v, signature, seq](lt::entry &e, std::array<char, 64> &sigOut, std::int64_t &seqOut, std::string const &) {
                e = v;
                sigOut = signature;
                seqOut = seq;
            },
            saltString);
    } catch (...) {
    }
}

void mt_session_dht_get_mutable(mt_session *s, const uint8_t key[32], const uint8_t *salt, size_t salt_len) {
    try {
        std::array<char, 32> k;
        std::memcpy(k.data(), key, 32);
        s->ses->dht_get_item(k, std::string(reinterpret_cast<const char *>(salt), salt ? salt_len : 0));
    } catch (...) {
    }
}

void mt_session_dht_get_peers(mt_session *s, const uint8_t info_hash[20]) {
    try {
        lt::sha1_hash h;
        std::memcpy(h.data(), info_hash, 20);
        s->ses->dht_get_peers(h);
    } catch (...) {
    }
}

void mt_session_post_dht_stats(mt_session *s) {
    try {
        // Session stats, not post_dht_stats: that posts one alert per DHT node
        // (one per listen socket), and the first is no answer for the others.
        // The dht_nodes counter is summed over every node, in one alert.
        s->ses->post_session_stats();
    } catch (...) {
    }
}

void mt_session_post_torrent_updates(mt_session *s) {
    try {
        s->ses->post_torrent_updates();
    } catch (...) {
    }
}

mt_torrent *mt_session_add(mt_session *s, const mt_add_params *p, mt_error *err) {
    clear_error(err);
    try {
        lt::add_torrent_params atp;
        lt::error_code ec;
        if (p->resume_data && p->resume_len > 0) {
            atp = lt::read_resume_data(
                lt::span<const char>(reinterpret_cast<const char *>(p->resume_data),
                                     static_cast<std::ptrdiff_t>(p->resume_len)),
                ec, limits());
            if (ec) atp = lt::add_torrent_params(); // stale resume data: start over, not fail
        }
        if (!atp.ti && !p->magnet && p->torrent_data) {
            auto ti = std::make_shared<lt::torrent_info>(
                lt::span<const char>(reinterpret_cast<const char *>(p->torrent_data),
                                     static_cast<std::ptrdiff_t>(p->torrent_len)),
                limits(), lt::from_span);
            atp.ti = ti;
        }
        if (p->magnet) {
            lt::add_torrent_params m = lt::parse_magnet_uri(p->magnet, ec);
            if (ec) {
                set_error(err, 3, "not a valid magnet link: " + ec.message());
                return nullptr;
            }
            if (atp.info_hashes.has_v1() || atp.info_hashes.has_v2() || atp.ti) {
                // resume data already names the torrent; keep its state, add the magnet's hints
                for (auto &t : m.trackers) atp.trackers.push_back(t);
                for (auto &pe : m.peers) atp.peers.push_back(pe);
                if (atp.info_hashes != m.info_hashes && !atp.ti) atp = std::move(m);
            } else {
                atp = std::move(m);
            }
        } else if (!atp.ti && !(atp.info_hashes.has_v1() || atp.info_hashes.has_v2())) {
            set_error(err, 3, "nothing to add: no magnet link and no torrent data");
            return nullptr;
        }
        atp.save_path = p->save_path ? p->save_path : ".";
        if (p->flags & MT_ADD_NO_TRACKERS) {
            // Hosts named by someone we do not trust: contact none of them.
            atp.trackers.clear();
            atp.tracker_tiers.clear();
            atp.url_seeds.clear();
            atp.http_seeds.clear();
            if (atp.ti) {
                auto ti = std::make_shared<lt::torrent_info>(*atp.ti);
                ti->clear_trackers();
                ti->set_web_seeds({});
                atp.ti = ti;
            }
        }
        for (size_t i = 0; i < p->tracker_count; ++i) atp.trackers.push_back(p->trackers[i]);
        atp.flags &= ~lt::torrent_flags::paused;
        atp.flags &= ~lt::torrent_flags::auto_managed;
        atp.flags &= ~lt::torrent_flags::duplicate_is_error;
        if (p->flags & MT_ADD_STREAMING) {
            // Nothing is downloaded until a reader picks a file (files nobody
            // asked for stay at priority 0). Resume data keeps its own choice.
            if (!(p->resume_data && p->resume_len > 0)) atp.flags |= lt::torrent_flags::default_dont_download;
        }
        if (p->flags & MT_ADD_SEED_MODE) atp.flags |= lt::torrent_flags::seed_mode;
        if (p->flags & MT_ADD_PAUSED) atp.flags |= lt::torrent_flags::paused;
        lt::torrent_handle h = s->ses->add_torrent(std::move(atp), ec);
        if (ec) {
            set_error(err, 4, ec.message());
            return nullptr;
        }
        return new mt_torrent{h};
    } catch (const lt::system_error &e) {
        set_error(err, 3, e.code().message());
    } catch (const std::exception &e) {
        set_error(err, 2, e.what());
    } catch (...) {
        set_error(err, 2, "unknown engine error");
    }
    return nullptr;
}

void mt_session_remove(mt_session *s, mt_torrent *t, bool delete_files) {
    try {
        s->ses->remove_torrent(t->handle, delete_files ? lt::session::delete_files : lt::remove_flags_t{});
    } catch (...) {
    }
}

void mt_torrent_free(mt_torrent *t) { delete t; }

void mt_torrent_id(mt_torrent *t, uint8_t out[20]) {
    try {
        id_of(t->handle.info_hashes(), out);
    } catch (...) {
        std::memset(out, 0, 20);
    }
}

void mt_torrent_set_piece_deadline(mt_torrent *t, int piece, int deadline_ms) {
    try {
        t->handle.set_piece_deadline(lt::piece_index_t(piece), deadline_ms);
    } catch (...) {
    }
}

void mt_torrent_reset_piece_deadline(mt_torrent *t, int piece, int priority) {
    try {
        t->handle.reset_piece_deadline(lt::piece_index_t(piece));
        // reset leaves the piece at priority 1, not what it had (notes/libtorrent.md)
        t->handle.piece_priority(lt::piece_index_t(piece), lt::download_priority_t(static_cast<std::uint8_t>(priority)));
    } catch (...) {
    }
}

void mt_torrent_prioritize_files(mt_torrent *t, const uint8_t *priorities, size_t count) {
    try {
        std::vector<lt::download_priority_t> v;
        v.reserve(count);
        for (size_t i = 0; i < count; ++i) v.emplace_back(priorities[i]);
        t->handle.prioritize_files(v);
    } catch (...) {
    }
}

void mt_torrent_prioritize_pieces(mt_torrent *t, const uint8_t *priorities, size_t count) {
    try {
        std::vector<lt::download_priority_t> v;
        v.reserve(count);
        for (size_t i = 0; i < count; ++i) v.emplace_back(priorities[i]);
        t->handle.prioritize_pieces(v);
    } catch (...) {
    }
}

void mt_torrent_set_piece_priority(mt_torrent *t, int piece, int priority) {
    try {
        t->handle.piece_priority(lt::piece_index_t(piece), lt::download_priority_t(static_cast<std::uint8_t>(priority)));
    } catch (...) {
    }
}

void mt_torrent_connect_peer(mt_torrent *t, const char *host, int port) {
    try {
        lt::error_code ec;
        auto addr = lt::make_address(host, ec);
        if (ec) return;
        t->handle.connect_peer(lt::tcp::endpoint(addr, static_cast<unsigned short>(port)));
    } catch (...) {
    }
}

void mt_torrent_set_upload_limit(mt_torrent *t, int bytes_per_second) {
    try {
        t->handle.set_upload_limit(bytes_per_second);
    } catch (...) {
    }
}

void mt_torrent_force_reannounce(mt_torrent *t) {
    try {
        t->handle.force_reannounce(0, -1, lt::torrent_handle::ignore_min_interval);
        t->handle.force_dht_announce();
    } catch (...) {
    }
}

void mt_torrent_drop_connections(mt_torrent *t) {
    try {
        // A hard pause closes every connection at once; resume reconnects.
        t->handle.pause();
        t->handle.resume();
    } catch (...) {
    }
}

void mt_torrent_pause(mt_torrent *t) {
    try {
        t->handle.pause(lt::torrent_handle::graceful_pause);
    } catch (...) {
    }
}

void mt_torrent_resume(mt_torrent *t) {
    try {
        t->handle.resume();
    } catch (...) {
    }
}

void mt_torrent_save_resume_data(mt_torrent *t) {
    try {
        t->handle.save_resume_data(lt::torrent_handle::save_info_dict);
    } catch (...) {
    }
}

mt_info *mt_torrent_info(mt_torrent *t) {
    try {
        auto ti = t->handle.torrent_file();
        if (!ti || !ti->is_valid()) return nullptr;
        return new mt_info{ti};
    } catch (...) {
        return nullptr;
    }
}

int mt_torrent_have_pieces(mt_torrent *t, uint8_t *out, size_t count) {
    try {
        lt::torrent_status st = t->handle.status(lt::torrent_handle::query_pieces);
        size_t n = std::min(count, static_cast<size_t>(st.pieces.size()));
        for (size_t i = 0; i < n; ++i) out[i] = st.pieces.get_bit(lt::piece_index_t(static_cast<int>(i))) ? 1 : 0;
        for (size_t i = n; i < count; ++i) out[i] = 0;
        return static_cast<int>(n);
    } catch (...) {
        return -1;
    }
}

int mt_torrent_status(mt_torrent *t, mt_status *out) {
    try {
        fill_status(t->handle.status(), out);
        return 0;
    } catch (...) {
        std::memset(out, 0, sizeof(*out));
        return -1;
    }
}

mt_info *mt_info_parse(const uint8_t *data, size_t len, mt_error *err) {
    clear_error(err);
    try {
        lt::error_code ec;
        auto l = limits();
        if (len > static_cast<size_t>(l.max_buffer_size)) {
            set_error(err, 5, "torrent file is too large");
            return nullptr;
        }
        lt::bdecode_node node = lt::bdecode(
            lt::span<const char>(reinterpret_cast<const char *>(data), static_cast<std::ptrdiff_t>(len)), ec, nullptr,
            l.max_decode_depth, l.max_decode_tokens);
        if (ec) {
            set_error(err, 5, "not a torrent file (" + ec.message() + ")");
            return nullptr;
        }
        auto ti = std::make_shared<lt::torrent_info>(node, l);
        return new mt_info{ti};
    } catch (const lt::system_error &e) {
        set_error(err, 5, "not a valid torrent file (" + e.code().message() + ")");
    } catch (const std::exception &e) {
        set_error(err, 5, std::string("not a valid torrent file (") + e.what() + ")");
    } catch (...) {
        set_error(err, 5, "not a valid torrent file");
    }
    return nullptr;
}

void mt_info_free(mt_info *i) { delete i; }
void mt_info_id(const mt_info *i, uint8_t out[20]) { id_of(i->info->info_hashes(), out); }
bool mt_info_has_v1(const mt_info *i) { return i->info->info_hashes().has_v1(); }
bool mt_info_has_v2(const mt_info *i) { return i->info->info_hashes().has_v2(); }

void mt_info_v2_hex(const mt_info *i, char out[65]) {
    out[0] = 0;
    if (!i->info->info_hashes().has_v2()) return;
    static const char *hex = "0123456789abcdef";
    auto const &h = i->info->info_hashes().v2;
    for (int k = 0; k < 32; ++k) {
        out[2 * k] = hex[(h[k] >> 4) & 0xf];
        out[2 * k + 1] = hex[h[k] & 0xf];
    }
    out[64] = 0;
}

const char *mt_info_name(const mt_info *i) { return i->info->name().c_str(); }
int mt_info_piece_length(const mt_info *i) { return i->info->piece_length(); }
int mt_info_num_pieces(const mt_info *i) { return i->info->num_pieces(); }
int64_t mt_info_total_size(const mt_info *i) { return i->info->total_size(); }
int mt_info_num_files(const mt_info *i) { return i->info->num_files(); }

char *mt_info_file_path(const mt_info *i, int file) {
    try {
        return dup_string(i->info->files().file_path(lt::file_index_t(file)));
    } catch (...) {
        return dup_string("");
    }
}

int64_t mt_info_file_size(const mt_info *i, int file) { return i->info->files().file_size(lt::file_index_t(file)); }
int64_t mt_info_file_offset(const mt_info *i, int file) {
    return i->info->files().file_offset(lt::file_index_t(file));
}
bool mt_info_file_is_pad(const mt_info *i, int file) {
    return bool(i->info->files().file_flags(lt::file_index_t(file)) & lt::file_storage::flag_pad_file);
}

const uint8_t *mt_info_info_section(const mt_info *i, size_t *len) {
    auto s = i->info->info_section();
    *len = static_cast<size_t>(s.size());
    return reinterpret_cast<const uint8_t *>(s.data());
}

int mt_info_torrent_file(const mt_info *i, uint8_t **out, size_t *out_len, mt_error *err) {
    clear_error(err);
    try {
        lt::create_torrent ct(*i->info);
        std::vector<char> buf;
        lt::bencode(std::back_inserter(buf), ct.generate());
        *out = dup_bytes(buf.data(), buf.size());
        *out_len = buf.size();
        return 0;
    } catch (const std::exception &e) {
        set_error(err, 2, e.what());
    } catch (...) {
        set_error(err, 2, "unknown engine error");
    }
    return -1;
}

int mt_parse_magnet(const char *uri, uint8_t out_id[20], mt_error *err) {
    clear_error(err);
    try {
        lt::error_code ec;
        lt::add_torrent_params p = lt::parse_magnet_uri(uri, ec);
        if (ec) {
            set_error(err, 3, ec.message());
            return -1;
        }
        if (!p.info_hashes.has_v1() && !p.info_hashes.has_v2()) {
            set_error(err, 3, "no info-hash in it");
            return -1;
        }
        id_of(p.info_hashes, out_id);
        return 0;
    } catch (const std::exception &e) {
        set_error(err, 3, e.what());
    } catch (...) {
        set_error(err, 3, "unreadable");
    }
    return -1;
}

int mt_create_torrent(const char *path, int piece_size, const char *const *trackers, size_t tracker_count,
                      const char *const *web_seeds, size_t web_seed_count, const char *creator,
                      mt_progress_fn progress, void *ctx, uint8_t **out, size_t *out_len, mt_error *err) {
    clear_error(err);
    try {
        lt::file_storage fs;
        lt::add_files(fs, path, [](std::string const &p) {
            // skip hidden files and dot folders, as other clients do
            auto slash = p.find_last_of('/');
            std::string leaf = slash == std::string::npos ? p : p.substr(slash + 1);
            return leaf.empty() || leaf[0] != '.';
        });
        if (fs.num_files() == 0) {
            set_error(err, 6, "nothing to share: no files found");
            return -1;
        }
        lt::create_torrent ct(fs, piece_size);
        for (size_t i = 0; i < tracker_count; ++i) ct.add_tracker(trackers[i], static_cast<int>(i));
        for (size_t i = 0; i < web_seed_count; ++i) ct.add_url_seed(web_seeds[i]);
        if (creator) ct.set_creator(creator);
        std::string parent(path);
        while (parent.size() > 1 && parent.back() == '/') parent.pop_back();
        auto slash = parent.find_last_of('/');
        parent = slash == std::string::npos ? std::string(".") : (slash == 0 ? std::string("/") : parent.substr(0, slash));
        int total = ct.num_pieces();
        lt::error_code ec;
        lt::set_piece_hashes(
            ct, parent,
            [&](lt::piece_index_t p) {
                if (progress) progress(ctx, static_cast<int>(p), total);
            },
            ec);
        if (ec) {
            set_error(err, 7, ec.message());
            return -1;
        }
        std::vector<char> buf;
        lt::bencode(std::back_inserter(buf), ct.generate());
        *out = dup_bytes(buf.data(), buf.size());
        *out_len = buf.size();
        return 0;
    } catch (const lt::system_error &e) {
        set_error(err, 7, e.code().message());
    } catch (const std::exception &e) {
        set_error(err, 7, e.what());
    } catch (...) {
        set_error(err, 7, "unknown engine error");
    }
    return -1;
}

size_t mt_session_wait_alerts(mt_session *s, int timeout_ms, mt_alert **out) {
    *out = nullptr;
    // Copies made so far; freed if anything fails before they are handed over.
    std::vector<mt_alert> res;
    auto discard = [&res]() {
        for (auto &m : res) {
            std::free(m.message);
            std::free(m.data);
            std::free(m.salt);
            std::free(m.address);
        }
        res.clear();
        return size_t(0);
    };
    try {
        if (!s->ses->wait_for_alert(std::chrono::milliseconds(timeout_ms))) return 0;
        std::vector<lt::alert *> alerts;
        s->ses->pop_alerts(&alerts);
        // Alert pointers die at the next pop_alerts: copy everything now.
        res.reserve(alerts.size());
        auto base = [](lt::alert *a) {
            mt_alert m;
            std::memset(&m, 0, sizeof(m));
            if (auto *ta = dynamic_cast<lt::torrent_alert *>(a)) {
                m.has_torrent = true;
                try {
                    id_of(ta->handle.info_hashes(), m.id);
                } catch (...) {
                    m.has_torrent = false;
                }
            }
            return m;
        };
        for (lt::alert *a : alerts) {
            if (auto *su = lt::alert_cast<lt::state_update_alert>(a)) {
                for (auto const &st : su->status) {
                    mt_alert m;
                    std::memset(&m, 0, sizeof(m));
                    m.type = MT_ALERT_STATE_UPDATE;
                    m.has_torrent = true;
                    id_of(st.info_hashes, m.id);
                    fill_status(st, &m.status);
                    res.push_back(m);
                }
                continue;
            }
            mt_alert m = base(a);
            switch (a->type()) {
            case lt::piece_finished_alert::alert_type:
                m.type = MT_ALERT_PIECE_FINISHED;
                m.piece = static_cast<int>(static_cast<lt::piece_finished_alert *>(a)->piece_index);
                break;
            case lt::metadata_received_alert::alert_type: m.type = MT_ALERT_METADATA_RECEIVED; break;
            case lt::metadata_failed_alert::alert_type:
                m.type = MT_ALERT_METADATA_FAILED;
                m.message = dup_string(a->message());
                break;
            case lt::torrent_checked_alert::alert_type: m.type = MT_ALERT_TORRENT_CHECKED; break;
            case lt::torrent_finished_alert::alert_type: m.type = MT_ALERT_TORRENT_FINISHED; break;
            case lt::save_resume_data_alert::alert_type: {
                m.type = MT_ALERT_SAVE_RESUME_DATA;
                auto *r = static_cast<lt::save_resume_data_alert *>(a);
                std::vector<char> buf = lt::write_resume_data_buf(r->params);
                m.data = dup_bytes(buf.data(), buf.size());
                m.data_len = buf.size();
                break;
            }
            case lt::save_resume_data_failed_alert::alert_type:
                m.type = MT_ALERT_SAVE_RESUME_DATA_FAILED;
                m.message = dup_string(a->message());
                break;
            case lt::torrent_error_alert::alert_type:
                m.type = MT_ALERT_TORRENT_ERROR;
                m.message = dup_string(static_cast<lt::torrent_error_alert *>(a)->error.message() + ": " +
                                       static_cast<lt::torrent_error_alert *>(a)->filename());
                break;
            case lt::file_error_alert::alert_type: {
                auto *f = static_cast<lt::file_error_alert *>(a);
                m.type = MT_ALERT_FILE_ERROR;
                m.message = dup_string(f->error.message() + ": " + f->filename());
                break;
            }
            case lt::listen_succeeded_alert::alert_type: {
                auto *l = static_cast<lt::listen_succeeded_alert *>(a);
                m.type = MT_ALERT_LISTEN_SUCCEEDED;
                m.port = l->port;
                m.is_tcp = l->socket_type == lt::socket_type_t::tcp;
                m.message = dup_string(l->address.to_string());
                break;
            }
            case lt::listen_failed_alert::alert_type: {
                auto *l = static_cast<lt::listen_failed_alert *>(a);
                m.type = MT_ALERT_LISTEN_FAILED;
                m.port = l->port;
                m.is_tcp = l->socket_type == lt::socket_type_t::tcp;
                m.message = dup_string(l->address.to_string() + ":" + std::to_string(l->port) + ": " +
                                       l->error.message());
                break;
            }
            case lt::tracker_error_alert::alert_type:
                m.type = MT_ALERT_TRACKER_ERROR;
                m.message = dup_string(a->message());
                break;
            case lt::hash_failed_alert::alert_type:
                m.type = MT_ALERT_HASH_FAILED;
                m.piece = static_cast<int>(static_cast<lt::hash_failed_alert *>(a)->piece_index);
                break;
            case lt::torrent_removed_alert::alert_type: m.type = MT_ALERT_TORRENT_REMOVED; break;
            case lt::peer_connect_alert::alert_type:
                m.type = MT_ALERT_PEER_CONNECTED;
                m.message = dup_string(a->message());
                break;
            case lt::peer_disconnected_alert::alert_type: {
                auto *d = static_cast<lt::peer_disconnected_alert *>(a);
                m.type = MT_ALERT_PEER_DISCONNECTED;
                m.message = dup_string(a->message());
                lt::tcp::endpoint ep = d->endpoint;
                m.address = dup_string(ep.address().to_string());
                m.port = ep.port();
                // "established": worth reconnecting to. Not a failed connect,
                // and not ourselves (a peer may advertise our own address).
                m.count = d->op != lt::operation_t::connect && d->error != lt::errors::self_connection ? 1 : 0;
                break;
            }
            case lt::dht_mutable_item_alert::alert_type: {
                auto *d = static_cast<lt::dht_mutable_item_alert *>(a);
                m.type = MT_ALERT_DHT_MUTABLE_ITEM;
                std::memcpy(m.key, d->key.data(), 32);
                std::memcpy(m.sig, d->signature.data(), 64);
                m.seq = d->seq;
                m.authoritative = d->authoritative;
                if (d->item.type() != lt::entry::undefined_t) {
                    std::vector<char> buf;
                    lt::bencode(std::back_inserter(buf), d->item);
                    m.data = dup_bytes(buf.data(), buf.size());
                    m.data_len = buf.size();
                }
                m.salt = dup_bytes(d->salt.data(), d->salt.size());
                m.salt_len = d->salt.size();
                break;
            }
            case lt::dht_put_alert::alert_type: {
                auto *d = static_cast<lt::dht_put_alert *>(a);
                m.type = MT_ALERT_DHT_PUT;
                std::memcpy(m.key, d->public_key.data(), 32);
                std::memcpy(m.sig, d->signature.data(), 64);
                m.seq = d->seq;
                m.count = d->num_success;
                m.salt = dup_bytes(d->salt.data(), d->salt.size());
                m.salt_len = d->salt.size();
                break;
            }
            case lt::dht_get_peers_reply_alert::alert_type: {
                auto *d = static_cast<lt::dht_get_peers_reply_alert *>(a);
                m.type = MT_ALERT_DHT_PEERS;
                std::memcpy(m.key, d->info_hash.data(), 20);
                m.count = d->num_peers();
                // Each DHT node answers with its own alerts (one per reply
                // that carried peers): the endpoints let the caller count
                // each peer once across all of them.
                std::string list;
                for (auto const &ep : d->peers()) {
                    if (!list.empty()) list += '\n';
                    list += ep.address().is_v6() ? "[" + ep.address().to_string() + "]" : ep.address().to_string();
                    list += ":" + std::to_string(ep.port());
                }
                m.message = dup_string(list);
                break;
            }
            case lt::session_stats_alert::alert_type: {
                static const int nodes = lt::find_metric_idx("dht.dht_nodes");
                auto *d = static_cast<lt::session_stats_alert *>(a);
                auto counters = d->counters();
                if (nodes < 0 || nodes >= static_cast<int>(counters.size())) continue;
                m.type = MT_ALERT_DHT_STATS;
                m.count = static_cast<int>(counters[nodes]);
                break;
            }
            default: continue; // not read by TorrentKit
            }
            res.push_back(m);
        }
        if (res.empty()) return 0;
        mt_alert *arr = static_cast<mt_alert *>(std::malloc(sizeof(mt_alert) * res.size()));
        if (!arr) return discard();
        std::memcpy(arr, res.data(), sizeof(mt_alert) * res.size());
        *out = arr;
        return res.size();
    } catch (...) {
        return discard();
    }
}

void mt_alerts_free(mt_alert *alerts, size_t count) {
    if (!alerts) return;
    for (size_t i = 0; i < count; ++i) {
        std::free(alerts[i].message);
        std::free(alerts[i].data);
        std::free(alerts[i].salt);
        std::free(alerts[i].address);
    }
    std::free(alerts);
}

} // extern "C"
