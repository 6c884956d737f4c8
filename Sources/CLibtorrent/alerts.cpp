// Alerts: popped on TorrentKit's pump thread and copied into plain C
// structs (libtorrent's alert pointers die at the next pop).

#include "internal.hpp"

#include <libtorrent/alert_types.hpp>
#include <libtorrent/bencode.hpp>
#include <libtorrent/session_stats.hpp>
#include <libtorrent/socks5_stream.hpp>
#include <libtorrent/operations.hpp>
#include <libtorrent/write_resume_data.hpp>
#include <chrono>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <vector>

extern "C" {

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
                    mt::id_of(ta->handle.info_hashes(), m.id);
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
                    mt::id_of(st.info_hashes, m.id);
                    mt::fill_status(st, &m.status);
                    res.push_back(m);
                }
                continue;
            }
            // The peer category is on for peer_ban_alert: the rest of it
            // (errors, snubs, unwanted blocks…) is dropped before any work.
            if ((a->category() & lt::alert_category::peer) && a->type() != lt::peer_ban_alert::alert_type &&
                a->type() != lt::peer_disconnected_alert::alert_type && a->type() != lt::peer_connect_alert::alert_type)
                continue;
            mt_alert m = base(a);
            switch (a->type()) {
            case lt::piece_finished_alert::alert_type:
                m.type = MT_ALERT_PIECE_FINISHED;
                m.piece = static_cast<int>(static_cast<lt::piece_finished_alert *>(a)->piece_index);
                break;
            case lt::metadata_received_alert::alert_type: m.type = MT_ALERT_METADATA_RECEIVED; break;
            case lt::metadata_failed_alert::alert_type:
                m.type = MT_ALERT_METADATA_FAILED;
                m.message = mt::dup_string(a->message());
                break;
            case lt::torrent_checked_alert::alert_type: m.type = MT_ALERT_TORRENT_CHECKED; break;
            case lt::torrent_finished_alert::alert_type: m.type = MT_ALERT_TORRENT_FINISHED; break;
            case lt::save_resume_data_alert::alert_type: {
                m.type = MT_ALERT_SAVE_RESUME_DATA;
                auto *r = static_cast<lt::save_resume_data_alert *>(a);
                std::vector<char> buf = lt::write_resume_data_buf(r->params);
                m.data = mt::dup_bytes(buf.data(), buf.size());
                m.data_len = buf.size();
                break;
            }
            case lt::save_resume_data_failed_alert::alert_type:
                m.type = MT_ALERT_SAVE_RESUME_DATA_FAILED;
                m.message = mt::dup_string(a->message());
                break;
            case lt::torrent_error_alert::alert_type:
                m.type = MT_ALERT_TORRENT_ERROR;
                m.message = mt::dup_string(static_cast<lt::torrent_error_alert *>(a)->error.message() + ": " +
                                       static_cast<lt::torrent_error_alert *>(a)->filename());
                break;
            case lt::file_error_alert::alert_type: {
                auto *f = static_cast<lt::file_error_alert *>(a);
                m.type = MT_ALERT_FILE_ERROR;
                m.message = mt::dup_string(f->error.message() + ": " + f->filename());
                m.address = mt::dup_string(f->filename());
                m.count = (f->error == boost::system::errc::no_space_on_device ||
                           f->error == boost::system::errc::file_too_large ||
                           (f->error.category() == boost::system::system_category() && f->error.value() == EDQUOT))
                              ? 1
                              : 0;
                break;
            }
            case lt::listen_succeeded_alert::alert_type: {
                auto *l = static_cast<lt::listen_succeeded_alert *>(a);
                m.type = MT_ALERT_LISTEN_SUCCEEDED;
                m.port = l->port;
                m.is_tcp = l->socket_type == lt::socket_type_t::tcp;
                m.message = mt::dup_string(l->address.to_string());
                break;
            }
            case lt::listen_failed_alert::alert_type: {
                auto *l = static_cast<lt::listen_failed_alert *>(a);
                m.type = MT_ALERT_LISTEN_FAILED;
                m.port = l->port;
                m.is_tcp = l->socket_type == lt::socket_type_t::tcp;
                m.message = mt::dup_string(l->address.to_string() + ":" + std::to_string(l->port) + ": " +
                                       l->error.message());
                break;
            }
            case lt::tracker_error_alert::alert_type:
                m.type = MT_ALERT_TRACKER_ERROR;
                m.message = mt::dup_string(a->message());
                break;
            case lt::hash_failed_alert::alert_type:
                m.type = MT_ALERT_HASH_FAILED;
                m.piece = static_cast<int>(static_cast<lt::hash_failed_alert *>(a)->piece_index);
                break;
            case lt::torrent_removed_alert::alert_type: m.type = MT_ALERT_TORRENT_REMOVED; break;
            case lt::peer_connect_alert::alert_type:
                m.type = MT_ALERT_PEER_CONNECTED;
                m.message = mt::dup_string(a->message());
                break;
            case lt::peer_ban_alert::alert_type: {
                auto *b = static_cast<lt::peer_ban_alert *>(a);
                m.type = MT_ALERT_PEER_BANNED;
                m.message = mt::dup_string(a->message());
                lt::tcp::endpoint ep = b->endpoint;
                m.address = mt::dup_string(ep.address().to_string());
                m.port = ep.port();
                break;
            }
            case lt::socks5_alert::alert_type: {
                // The SOCKS5 proxy (its UDP tunnel, opened for the DHT and
                // uTP) could not be reached or refused us; libtorrent retries
                // by itself.
                auto *x = static_cast<lt::socks5_alert *>(a);
                m.type = MT_ALERT_PROXY_ERROR;
                m.message = mt::dup_string(std::string(lt::operation_name(x->op)) + ": " + x->error.message());
                m.address = mt::dup_string(x->ip.address().to_string());
                m.port = x->ip.port();
                break;
            }
            case lt::peer_disconnected_alert::alert_type: {
                auto *d = static_cast<lt::peer_disconnected_alert *>(a);
                if (d->error.category() == lt::socks_category()) {
                    // The proxy refused a peer connection for itself (a wrong
                    // password, an unsupported method): said as the proxy's
                    // trouble, not the peer's.
                    mt_alert px = base(a);
                    px.type = MT_ALERT_PROXY_ERROR;
                    px.message = mt::dup_string(std::string("peer connection: ") + d->error.message());
                    res.push_back(px);
                }
                m.type = MT_ALERT_PEER_DISCONNECTED;
                m.message = mt::dup_string(a->message());
                lt::tcp::endpoint ep = d->endpoint;
                m.address = mt::dup_string(ep.address().to_string());
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
                    m.data = mt::dup_bytes(buf.data(), buf.size());
                    m.data_len = buf.size();
                }
                m.salt = mt::dup_bytes(d->salt.data(), d->salt.size());
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
                m.salt = mt::dup_bytes(d->salt.data(), d->salt.size());
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
                m.message = mt::dup_string(list);
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
