// Shared by the shim's files: the handle types behind the C header's opaque
// pointers, small helpers, and the guards every entry point runs its body
// through, so that no exception ever crosses into Swift.
#pragma once

#include "clibtorrent.h"

#include <libtorrent/add_torrent_params.hpp>
#include <libtorrent/info_hash.hpp>
#include <libtorrent/session.hpp>
#include <libtorrent/settings_pack.hpp>
#include <libtorrent/torrent_handle.hpp>
#include <libtorrent/torrent_info.hpp>
#include <libtorrent/torrent_status.hpp>

#include <exception>
#include <memory>
#include <string>

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

namespace mt {

void set_error(mt_error *err, int code, const std::string &msg);
void clear_error(mt_error *err);
/// malloc'd copies, freed by the caller with mt_free.
char *dup_string(const std::string &s);
uint8_t *dup_bytes(const char *data, size_t len);
/// A torrent's 20-byte id: its v1 info-hash, or the start of its v2 one.
void id_of(const lt::info_hash_t &ih, uint8_t out[20]);
/// The alert categories TorrentKit reads.
extern const lt::alert_category_t alert_mask;
int apply(lt::settings_pack &pack, const mt_setting *settings, size_t count, mt_error *err);
void fill_status(const lt::torrent_status &st, mt_status *o);
/// Bounds on what a .torrent or resume data may make libtorrent decode.
lt::load_torrent_limits limits();

/// Runs `body`; whatever it throws is dropped (calls whose failure the
/// caller cannot act on: a priority on a removed torrent, say).
template <class F> void quietly(F &&body) noexcept {
    try {
        body();
    } catch (...) {
    }
}

/// Runs `body`, or returns `fallback` if it throws.
template <class R, class F> R or_else(R fallback, F &&body) noexcept {
    try {
        return body();
    } catch (...) {
        return fallback;
    }
}

/// Runs `body` with `err` cleared; if it throws, `err` gets `code` (or
/// `system_code` for libtorrent's own errors) and the reason, framed as
/// "context (reason)" when a context is given, and `fallback` is returned.
template <class R, class F>
R reporting(mt_error *err, int code, R fallback, F &&body, const char *context = nullptr, int system_code = 0) noexcept {
    clear_error(err);
    auto framed = [context](const std::string &why) { return context ? std::string(context) + " (" + why + ")" : why; };
    try {
        return body();
    } catch (const lt::system_error &e) {
        set_error(err, system_code ? system_code : code, framed(e.code().message()));
    } catch (const std::exception &e) {
        set_error(err, code, framed(e.what()));
    } catch (...) {
        set_error(err, code, framed("unknown engine error"));
    }
    return fallback;
}

} // namespace mt
