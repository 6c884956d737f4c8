// The session: creating it, settings, saved state, the DHT, adding and
// removing torrents.

#include "internal.hpp"

#include <libtorrent/bdecode.hpp>
#include <libtorrent/entry.hpp>
#include <libtorrent/ip_filter.hpp>
#include <libtorrent/magnet_uri.hpp>
#include <libtorrent/posix_disk_io.hpp>
#include <libtorrent/read_resume_data.hpp>
#include <libtorrent/session_params.hpp>
#include <libtorrent/write_resume_data.hpp>
#include <array>
#include <cstdlib>
#include <cstring>
#include <vector>

extern "C" {

mt_session *mt_session_new(const mt_setting *settings, size_t count, const uint8_t *state, size_t state_len,
                           mt_error *err) {
    return mt::reporting<mt_session *>(err, 2, nullptr, [&]() -> mt_session * {
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
        pack.set_int(lt::settings_pack::alert_mask, static_cast<int>(static_cast<std::uint32_t>(mt::alert_mask)));
        if (mt::apply(pack, settings, count, err) != 0) return nullptr;
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
    });
}

void mt_session_free(mt_session *s) {
    mt::quietly([&] {
        delete s;
    });
}

int mt_session_apply_settings(mt_session *s, const mt_setting *settings, size_t count, mt_error *err) {
    return mt::reporting<int>(err, 2, -1, [&]() -> int {
        lt::settings_pack pack;
        if (mt::apply(pack, settings, count, err) != 0) return -1;
        s->ses->apply_settings(std::move(pack));
        return 0;
    });
}

int mt_session_save_state(mt_session *s, uint8_t **out, size_t *out_len, mt_error *err) {
    return mt::reporting<int>(err, 2, -1, [&]() -> int {
        lt::session_params p = s->ses->session_state(lt::session::save_dht_state);
        std::vector<char> buf = lt::write_session_params_buf(p, lt::session::save_dht_state);
        *out = mt::dup_bytes(buf.data(), buf.size());
        *out_len = buf.size();
        return 0;
    });
}

int mt_session_listen_port(mt_session *s) {
    return mt::or_else<int>(0, [&]() -> int {
        return s->ses->listen_port();
    });
}

void mt_session_add_dht_node(mt_session *s, const char *host, int port) {
    mt::quietly([&] {
        s->ses->add_dht_node(std::make_pair(std::string(host), port));
    });
}

void mt_session_limit_local_peers(mt_session *s, bool limited) {
    if (!limited) return; // libtorrent's default filter already exempts local peers
    mt::quietly([&] {
        lt::ip_filter classes;
        auto global = std::uint32_t(1) << static_cast<std::uint32_t>(lt::session::global_peer_class_id);
        classes.add_rule(lt::make_address_v4("0.0.0.0"), lt::make_address_v4("255.255.255.255"), global);
        classes.add_rule(lt::make_address_v6("::"), lt::make_address_v6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
                         global);
        s->ses->set_peer_class_filter(classes);
    });
}

void mt_session_dht_put_mutable(mt_session *s, const uint8_t key[32], const uint8_t sig[64], int64_t seq,
                                const uint8_t *salt, size_t salt_len, const uint8_t *value, size_t value_len) {
    mt::quietly([&] {
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
    });
}

void mt_session_dht_get_mutable(mt_session *s, const uint8_t key[32], const uint8_t *salt, size_t salt_len) {
    mt::quietly([&] {
        std::array<char, 32> k;
        std::memcpy(k.data(), key, 32);
        s->ses->dht_get_item(k, std::string(reinterpret_cast<const char *>(salt), salt ? salt_len : 0));
    });
}

void mt_session_dht_get_peers(mt_session *s, const uint8_t info_hash[20]) {
    mt::quietly([&] {
        lt::sha1_hash h;
        std::memcpy(h.data(), info_hash, 20);
        s->ses->dht_get_peers(h);
    });
}

void mt_session_post_dht_stats(mt_session *s) {
    mt::quietly([&] {
        // Session stats, not post_dht_stats: that posts one alert per DHT node
        // (one per listen socket), and the first is no answer for the others.
        // The dht_nodes counter is summed over every node, in one alert.
        s->ses->post_session_stats();
    });
}

void mt_session_post_torrent_updates(mt_session *s) {
    mt::quietly([&] {
        s->ses->post_torrent_updates();
    });
}

mt_torrent *mt_session_add(mt_session *s, const mt_add_params *p, mt_error *err) {
    return mt::reporting<mt_torrent *>(err, 2, nullptr, [&]() -> mt_torrent * {
        lt::add_torrent_params atp;
        lt::error_code ec;
        if (p->resume_data && p->resume_len > 0) {
            atp = lt::read_resume_data(
                lt::span<const char>(reinterpret_cast<const char *>(p->resume_data),
                                     static_cast<std::ptrdiff_t>(p->resume_len)),
                ec, mt::limits());
            if (ec) atp = lt::add_torrent_params(); // stale resume data: start over, not fail
            // Piece priorities are only ever the stream planner's plan of the
            // moment (a window, pieces held while a buffer was short). Kept,
            // they left a restored torrent "finished" on the last run's window
            // and the next reader's pieces behind it (issue 12 item 7). Which
            // files are wanted stays: that is the file priorities.
            atp.piece_priorities.clear();
        }
        if (!atp.ti && !p->magnet && p->torrent_data) {
            auto ti = std::make_shared<lt::torrent_info>(
                lt::span<const char>(reinterpret_cast<const char *>(p->torrent_data),
                                     static_cast<std::ptrdiff_t>(p->torrent_len)),
                mt::limits(), lt::from_span);
            atp.ti = ti;
        }
        if (p->magnet) {
            lt::add_torrent_params m = lt::parse_magnet_uri(p->magnet, ec);
            if (ec) {
                mt::set_error(err, 3, "not a valid magnet link: " + ec.message());
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
            mt::set_error(err, 3, "nothing to add: no magnet link and no torrent data");
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
        // Resume data saved after a failed write keeps upload mode, and a
        // torrent that is not auto-managed never leaves it: a full disk once
        // would stop the download for good (issue 12).
        atp.flags &= ~lt::torrent_flags::upload_mode;
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
            mt::set_error(err, 4, ec.message());
            return nullptr;
        }
        return new mt_torrent{h};
    }, nullptr, 3);
}

void mt_session_remove(mt_session *s, mt_torrent *t, bool delete_files) {
    mt::quietly([&] {
        s->ses->remove_torrent(t->handle, delete_files ? lt::session::delete_files : lt::remove_flags_t{});
    });
}

} // extern "C"
