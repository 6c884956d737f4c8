// Torrent metadata: parsing .torrent files and magnet links, and making torrents.

#include "internal.hpp"

#include <libtorrent/bdecode.hpp>
#include <libtorrent/bencode.hpp>
#include <libtorrent/create_torrent.hpp>
#include <libtorrent/hasher.hpp>
#include <libtorrent/magnet_uri.hpp>
#include <iterator>
#include <vector>

namespace {

lt::sha256_hash hash_pair(lt::sha256_hash const &a, lt::sha256_hash const &b) {
    lt::hasher256 h;
    h.update(a);
    h.update(b);
    return h.final();
}

// The first file (its path) whose piece layer does not hash up to its root,
// or "". BEP 52: a file's tree has 16 KiB blocks as leaves, the hashes past
// its end are zero, and the piece layer is the level of whole pieces; so the
// pieces past the end are the root of a piece of zero hashes. libtorrent
// only checks this once the torrent is added, which made `play --list`
// accept what `play` refused.
std::string invalid_piece_layer(lt::torrent_info const &ti) {
    if (!ti.info_hashes().has_v2()) return "";
    auto const &fs = ti.files();
    int const piece = ti.piece_length();
    lt::sha256_hash pad; // a zero block hash, raised to a piece
    for (int blocks = piece / lt::default_block_size; blocks > 1; blocks /= 2) pad = hash_pair(pad, pad);
    for (lt::file_index_t i : fs.file_range()) {
        if (fs.pad_file_at(i) || fs.file_size(i) <= piece) continue; // no layer: the root covers it
        auto layer = ti.piece_layer(i);
        if (layer.empty()) continue; // not given (metadata from peers): libtorrent fetches it
        std::int64_t const pieces = (fs.file_size(i) + piece - 1) / piece;
        if (std::int64_t(layer.size()) != pieces * 32) return fs.file_path(i);
        std::size_t width = 1;
        while (width < std::size_t(pieces)) width *= 2;
        std::vector<lt::sha256_hash> level(width, pad);
        for (std::int64_t p = 0; p < pieces; ++p) level[std::size_t(p)] = lt::sha256_hash(layer.data() + p * 32);
        while (level.size() > 1) {
            for (std::size_t k = 0; k < level.size() / 2; ++k) level[k] = hash_pair(level[2 * k], level[2 * k + 1]);
            level.resize(level.size() / 2);
        }
        if (level[0] != fs.root(i)) return fs.file_path(i);
    }
    return "";
}

} // namespace

extern "C" {

mt_info *mt_info_parse(const uint8_t *data, size_t len, mt_error *err) {
    return mt::reporting<mt_info *>(err, 5, nullptr, [&]() -> mt_info * {
        lt::error_code ec;
        auto l = mt::limits();
        if (len > static_cast<size_t>(l.max_buffer_size)) {
            mt::set_error(err, 5, "torrent file is too large");
            return nullptr;
        }
        lt::bdecode_node node = lt::bdecode(
            lt::span<const char>(reinterpret_cast<const char *>(data), static_cast<std::ptrdiff_t>(len)), ec, nullptr,
            l.max_decode_depth, l.max_decode_tokens);
        if (ec) {
            mt::set_error(err, 5, "not a torrent file (" + ec.message() + ")");
            return nullptr;
        }
        auto ti = std::make_shared<lt::torrent_info>(node, l);
        std::string bad = invalid_piece_layer(*ti);
        if (!bad.empty()) {
            mt::set_error(err, 5, "a piece layer is invalid: it does not match the hashes of " + bad);
            return nullptr;
        }
        return new mt_info{ti};
    }, "not a valid torrent file");
}

void mt_info_free(mt_info *i) { delete i; }
void mt_info_id(const mt_info *i, uint8_t out[20]) { mt::id_of(i->info->info_hashes(), out); }
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
    return mt::or_else<char *>(mt::dup_string(""), [&]() -> char * {
        return mt::dup_string(i->info->files().file_path(lt::file_index_t(file)));
    });
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
    return mt::reporting<int>(err, 2, -1, [&]() -> int {
        lt::create_torrent ct(*i->info);
        std::vector<char> buf;
        lt::bencode(std::back_inserter(buf), ct.generate());
        *out = mt::dup_bytes(buf.data(), buf.size());
        *out_len = buf.size();
        return 0;
    });
}

int mt_parse_magnet(const char *uri, uint8_t out_id[20], mt_error *err) {
    return mt::reporting<int>(err, 3, -1, [&]() -> int {
        lt::error_code ec;
        lt::add_torrent_params p = lt::parse_magnet_uri(uri, ec);
        if (ec) {
            mt::set_error(err, 3, ec.message());
            return -1;
        }
        if (!p.info_hashes.has_v1() && !p.info_hashes.has_v2()) {
            mt::set_error(err, 3, "no info-hash in it");
            return -1;
        }
        mt::id_of(p.info_hashes, out_id);
        return 0;
    });
}

int mt_create_torrent(const char *path, int piece_size, const char *const *trackers, size_t tracker_count,
                      const char *const *web_seeds, size_t web_seed_count, const char *creator,
                      mt_progress_fn progress, void *ctx, uint8_t **out, size_t *out_len, mt_error *err) {
    return mt::reporting<int>(err, 7, -1, [&]() -> int {
        lt::file_storage fs;
        lt::add_files(fs, path, [](std::string const &p) {
            // skip hidden files and dot folders, as other clients do
            auto slash = p.find_last_of('/');
            std::string leaf = slash == std::string::npos ? p : p.substr(slash + 1);
            return leaf.empty() || leaf[0] != '.';
        });
        if (fs.num_files() == 0) {
            mt::set_error(err, 6, "nothing to share: no files found");
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
            mt::set_error(err, 7, ec.message());
            return -1;
        }
        std::vector<char> buf;
        lt::bencode(std::back_inserter(buf), ct.generate());
        *out = mt::dup_bytes(buf.data(), buf.size());
        *out_len = buf.size();
        return 0;
    });
}

} // extern "C"
