// One torrent: priorities and deadlines, peers, pausing, resume data, status.

#include "internal.hpp"

#include <libtorrent/address.hpp>
#include <libtorrent/download_priority.hpp>
#include <libtorrent/peer_info.hpp>
#include <algorithm>
#include <cstring>
#include <vector>

extern "C" {

void mt_torrent_free(mt_torrent *t) { delete t; }

void mt_torrent_id(mt_torrent *t, uint8_t out[20]) {
    if (!mt::or_else(false, [&] {
            mt::id_of(t->handle.info_hashes(), out);
            return true;
        }))
        std::memset(out, 0, 20);
}

void mt_torrent_set_piece_deadline(mt_torrent *t, int piece, int deadline_ms) {
    mt::quietly([&] {
        t->handle.set_piece_deadline(lt::piece_index_t(piece), deadline_ms);
    });
}

void mt_torrent_reset_piece_deadline(mt_torrent *t, int piece, int priority) {
    mt::quietly([&] {
        t->handle.reset_piece_deadline(lt::piece_index_t(piece));
        // reset leaves the piece at priority 1, not what it had (docs/libtorrent.md)
        t->handle.piece_priority(lt::piece_index_t(piece), lt::download_priority_t(static_cast<std::uint8_t>(priority)));
    });
}

void mt_torrent_prioritize_files(mt_torrent *t, const uint8_t *priorities, size_t count) {
    mt::quietly([&] {
        std::vector<lt::download_priority_t> v;
        v.reserve(count);
        for (size_t i = 0; i < count; ++i) v.emplace_back(priorities[i]);
        t->handle.prioritize_files(v);
    });
}

void mt_torrent_prioritize_pieces(mt_torrent *t, const uint8_t *priorities, size_t count) {
    mt::quietly([&] {
        std::vector<lt::download_priority_t> v;
        v.reserve(count);
        for (size_t i = 0; i < count; ++i) v.emplace_back(priorities[i]);
        t->handle.prioritize_pieces(v);
    });
}

void mt_torrent_set_piece_priority(mt_torrent *t, int piece, int priority) {
    mt::quietly([&] {
        t->handle.piece_priority(lt::piece_index_t(piece), lt::download_priority_t(static_cast<std::uint8_t>(priority)));
    });
}

void mt_torrent_set_sequential(mt_torrent *t, int on) {
    mt::quietly([&] {
        if (on) t->handle.set_flags(lt::torrent_flags::sequential_download);
        else t->handle.unset_flags(lt::torrent_flags::sequential_download);
    });
}

void mt_torrent_connect_peer(mt_torrent *t, const char *host, int port) {
    mt::quietly([&] {
        lt::error_code ec;
        auto addr = lt::make_address(host, ec);
        if (ec) return;
        t->handle.connect_peer(lt::tcp::endpoint(addr, static_cast<unsigned short>(port)));
    });
}

void mt_torrent_set_upload_limit(mt_torrent *t, int bytes_per_second) {
    mt::quietly([&] {
        t->handle.set_upload_limit(bytes_per_second);
    });
}

void mt_torrent_force_reannounce(mt_torrent *t) {
    mt::quietly([&] {
        t->handle.force_reannounce(0, -1, lt::torrent_handle::ignore_min_interval);
        t->handle.force_dht_announce();
    });
}

void mt_torrent_drop_connections(mt_torrent *t) {
    mt::quietly([&] {
        // A hard pause closes every connection at once; resume reconnects.
        t->handle.pause();
        t->handle.resume();
    });
}

void mt_torrent_pause(mt_torrent *t) {
    mt::quietly([&] {
        t->handle.pause(lt::torrent_handle::graceful_pause);
    });
}

void mt_torrent_retry_writes(mt_torrent *t) {
    mt::quietly([&] { t->handle.unset_flags(lt::torrent_flags::upload_mode); });
}

void mt_torrent_resume(mt_torrent *t) {
    mt::quietly([&] {
        t->handle.resume();
    });
}

void mt_torrent_save_resume_data(mt_torrent *t) {
    mt::quietly([&] {
        t->handle.save_resume_data(lt::torrent_handle::save_info_dict);
    });
}

mt_info *mt_torrent_info(mt_torrent *t) {
    return mt::or_else<mt_info *>(nullptr, [&]() -> mt_info * {
        auto ti = t->handle.torrent_file();
        if (!ti || !ti->is_valid()) return nullptr;
        return new mt_info{ti};
    });
}

int mt_torrent_have_pieces(mt_torrent *t, uint8_t *out, size_t count) {
    return mt::or_else<int>(-1, [&]() -> int {
        lt::torrent_status st = t->handle.status(lt::torrent_handle::query_pieces);
        size_t n = std::min(count, static_cast<size_t>(st.pieces.size()));
        for (size_t i = 0; i < n; ++i) out[i] = st.pieces.get_bit(lt::piece_index_t(static_cast<int>(i))) ? 1 : 0;
        for (size_t i = n; i < count; ++i) out[i] = 0;
        return static_cast<int>(n);
    });
}

size_t mt_torrent_peers(mt_torrent *t, mt_peer **out) {
    *out = nullptr;
    return mt::or_else<size_t>(0, [&]() -> size_t {
        std::vector<lt::peer_info> v;
        t->handle.get_peer_info(v);
        if (v.empty()) return 0;
        auto *p = static_cast<mt_peer *>(std::calloc(v.size(), sizeof(mt_peer)));
        if (!p) return 0;
        for (size_t i = 0; i < v.size(); ++i) {
            auto const &pi = v[i];
            p[i].address = mt::dup_string(pi.ip.address().to_string());
            p[i].port = pi.ip.port();
            p[i].client = mt::dup_string(pi.client);
            p[i].download_rate = pi.payload_down_speed;
            p[i].upload_rate = pi.payload_up_speed;
            p[i].progress = pi.progress;
            p[i].seed = bool(pi.flags & lt::peer_info::seed);
            p[i].encrypted = bool(pi.flags & (lt::peer_info::rc4_encrypted | lt::peer_info::plaintext_encrypted));
            p[i].utp = bool(pi.flags & lt::peer_info::utp_socket);
            p[i].incoming = !(pi.flags & lt::peer_info::local_connection);
        }
        *out = p;
        return v.size();
    });
}

void mt_peers_free(mt_peer *p, size_t n) {
    if (!p) return;
    for (size_t i = 0; i < n; ++i) {
        std::free(p[i].address);
        std::free(p[i].client);
    }
    std::free(p);
}

int mt_torrent_status(mt_torrent *t, mt_status *out) {
    int r = mt::or_else(-1, [&] {
        mt::fill_status(t->handle.status(), out);
        return 0;
    });
    if (r != 0) std::memset(out, 0, sizeof(*out));
    return r;
}

} // extern "C"
